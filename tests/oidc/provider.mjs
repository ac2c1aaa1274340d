// A real OpenID provider for webinar's sign-in tests: oidc-provider with its development
// login and consent pages, one client, listening on loopback over plain http.
//
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Prints "listening ISSUER" on stdout once it accepts connections (the tests wait for it).
// Whatever name is typed on the login page signs in: the account's subject is that
// name and so is its email (less an "unverified+" prefix), verified unless the name starts
// with "unverified+".
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Put the claims into the ID token too, as Entra ID and Google do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['webinar-tests-only-not-a-secret'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id.replace(/^unverified\+/, ''),
          email_verified: !id.startsWith('unverified+'),
          name: `Test ${id.split('@')[0]}`,
        };
      },
    };
  },
};

const provider = new Provider(issuer, configuration);
// Quiet: the tests read only the readiness line.
provider.on('server_error', (ctx, error) => console.error('server_error', error));
const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
