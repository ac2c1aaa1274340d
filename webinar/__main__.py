from webinar.cli.main import main

main()
