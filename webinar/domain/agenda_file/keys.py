"""The settings each table of an agenda file allows, by name (docs/agenda-format.md).

In one place because tables name each other's settings in their advice ("it belongs to the
item, so move it above the [items.breakout] line").
"""

TOP_KEYS = ("event", "items", "survey", "qa", "stage")
EVENT_KEYS = ("title", "date", "timezone", "organiser", "description", "moderation")
ITEM_KEYS = (
    "id",
    "title",
    "kind",
    "start",
    "end",
    "duration",
    "presenters",
    "summary",
    "serves",
    "slides",
    "breakout",
    "stage",
    "polls",
)
SLIDE_KEYS = ("title", "body")
BREAKOUT_KEYS = (
    "topics",
    "group_size",
    "groups",
    "min_topics",
    "instructions",
    "grace_seconds",
    "warning_seconds",
    "volunteer_seconds",
    "video_url_template",
    "call",
)
QA_KEYS = ("max_length", "word_filter")
SURVEY_KEYS = ("title", "opens_at_item", "open_days", "anonymous", "questions")
QUESTION_KEYS = (
    "code",
    "text",
    "kind",
    "required",
    "options",
    "scale_min",
    "scale_max",
    "scale_min_label",
    "scale_max_label",
)
SCALE_KEYS = ("scale_min", "scale_max", "scale_min_label", "scale_max_label")
