PRAGMA user_version = 8;
BEGIN TRANSACTION;
CREATE TABLE agenda_log (
        id      INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        action  TEXT NOT NULL,
        detail  TEXT NOT NULL,
        actor   TEXT NOT NULL
    );
INSERT INTO "agenda_log" VALUES(1,'2026-12-07T13:58:22.590+00:00','start','{}','host');
INSERT INTO "agenda_log" VALUES(2,'2026-12-07T13:58:22.611+00:00','jump','{"item_id":"lcspr-breakout"}','host');
INSERT INTO "agenda_log" VALUES(3,'2026-12-07T13:58:27.977+00:00','jump','{"item_id":"closing-remarks"}','host');
CREATE TABLE breakout_groups (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        number          INTEGER NOT NULL,
        topics          TEXT NOT NULL,
        facilitator_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        help_at         TEXT,
        PRIMARY KEY (round_id, number)
    );
CREATE TABLE breakout_members (
        round_id        INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        participant_id  TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        group_number    INTEGER NOT NULL,
        joined_at       TEXT NOT NULL,
        PRIMARY KEY (round_id, participant_id)
    );
CREATE TABLE breakout_points (
        id            INTEGER PRIMARY KEY,
        round_id      INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        group_number  INTEGER NOT NULL,
        topic         INTEGER NOT NULL,
        author_name   TEXT,
        text          TEXT NOT NULL,
        key_hash      TEXT NOT NULL UNIQUE,
        created_at    TEXT NOT NULL
    );
CREATE TABLE breakout_responses (
        round_id      INTEGER NOT NULL REFERENCES breakout_rounds(id) ON DELETE CASCADE,
        group_number  INTEGER NOT NULL,
        topic         INTEGER NOT NULL,
        text          TEXT NOT NULL,
        version       INTEGER NOT NULL,
        updated_at    TEXT NOT NULL,
        starred       INTEGER NOT NULL DEFAULT 0, edited_by_host INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (round_id, group_number, topic)
    );
CREATE TABLE breakout_rounds (
        id          INTEGER PRIMARY KEY,
        item_id     TEXT NOT NULL,
        seed        INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        ended_at    TEXT,
        message     TEXT NOT NULL DEFAULT ''
    );
INSERT INTO "breakout_rounds" VALUES(1,'lcspr-breakout',2119940406,'2026-12-07T13:58:22.622+00:00','2026-12-07T13:58:27.978+00:00','');
CREATE TABLE events (
        seq      INTEGER PRIMARY KEY AUTOINCREMENT,
        at       TEXT NOT NULL,
        type     TEXT NOT NULL,
        audience TEXT NOT NULL,
        data     TEXT NOT NULL
    );
INSERT INTO "events" VALUES(1,'2026-12-07T13:58:11.677+00:00','agenda.state','all','{"phase":"before","now":"2026-12-07T13:58:11.677+00:00","current":null,"current_started_at":null,"current_ends_at":null,"remaining_seconds":null,"paused":false,"held":false,"overrun":false,"next":"welcome","next_starts_at":"2026-12-07T13:58:11.677+00:00","drift_seconds":11.67793,"drift_text":"on time","projected_end":"2026-12-07T16:28:11.677+00:00","slide":null,"schedule":[{"id":"welcome","state":"upcoming","start":"2026-12-07T13:58:11.677+00:00","end":"2026-12-07T14:08:11.677+00:00","planned_start":"2026-12-07T13:58:00.000+00:00","planned_end":"2026-12-07T14:08:00.000+00:00"},{"id":"national-review-updates","state":"upcoming","start":"2026-12-07T14:08:11.677+00:00","end":"2026-12-07T14:28:11.677+00:00","planned_start":"2026-12-07T14:08:00.000+00:00","planned_end":"2026-12-07T14:28:00.000+00:00"},{"id":"review-qa","state":"upcoming","start":"2026-12-07T14:28:11.677+00:00","end":"2026-12-07T14:43:11.677+00:00","planned_start":"2026-12-07T14:28:00.000+00:00","planned_end":"2026-12-07T14:43:00.000+00:00"},{"id":"lcspr","state":"upcoming","start":"2026-12-07T14:43:11.677+00:00","end":"2026-12-07T15:08:11.677+00:00","planned_start":"2026-12-07T14:43:00.000+00:00","planned_end":"2026-12-07T15:08:00.000+00:00"},{"id":"lcspr-qa","state":"upcoming","start":"2026-12-07T15:08:11.677+00:00","end":"2026-12-07T15:28:11.677+00:00","planned_start":"2026-12-07T15:08:00.000+00:00","planned_end":"2026-12-07T15:28:00.000+00:00"},{"id":"lcspr-breakout","state":"upcoming","start":"2026-12-07T15:28:11.677+00:00","end":"2026-12-07T15:48:11.677+00:00","planned_start":"2026-12-07T15:28:00.000+00:00","planned_end":"2026-12-07T15:48:00.000+00:00"},{"id":"breakout-feedback","state":"upcoming","start":"2026-12-07T15:48:11.677+00:00","end":"2026-12-07T16:13:11.677+00:00","planned_start":"2026-12-07T15:48:00.000+00:00","planned_end":"2026-12-07T16:13:00.000+00:00"},{"id":"closing-remarks","state":"upcoming","start":"2026-12-07T16:13:11.677+00:00","end":"2026-12-07T16:28:11.677+00:00","planned_start":"2026-12-07T16:13:00.000+00:00","planned_end":"2026-12-07T16:28:00.000+00:00"}]}');
INSERT INTO "events" VALUES(2,'2026-12-07T13:58:15.967+00:00','roster.joined','staff','{"count":1}');
INSERT INTO "events" VALUES(3,'2026-12-07T13:58:16.039+00:00','roster.joined','staff','{"count":2}');
INSERT INTO "events" VALUES(4,'2026-12-07T13:58:16.213+00:00','roster.joined','staff','{"count":3}');
INSERT INTO "events" VALUES(5,'2026-12-07T13:58:16.265+00:00','roster.joined','staff','{"count":4}');
INSERT INTO "events" VALUES(6,'2026-12-07T13:58:16.273+00:00','qa.question','staff','{"question":{"id":1,"item_id":"review-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:16.273+00:00","replies":[],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":1,"published":1,"answered":0}}');
INSERT INTO "events" VALUES(7,'2026-12-07T13:58:16.273+00:00','qa.question','all','{"question":{"id":1,"item_id":"review-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:16.273+00:00","replies":[]},"removed":false,"new":true,"counters":{"received":1,"published":1,"answered":0}}');
INSERT INTO "events" VALUES(8,'2026-12-07T13:58:16.273+00:00','qa.mine','q:1','{"question":{"id":1,"item_id":"review-qa","text":"Will the slides be shared?","state":"published","anonymous":false,"answered":"","reject_reason":"","reject_text":"","merged_into":null}}');
INSERT INTO "events" VALUES(9,'2026-12-07T13:58:16.329+00:00','qa.question','staff','{"question":{"id":2,"item_id":"review-qa","text":"An anonymous worry","author":"","organisation":"","anonymous":true,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:16.329+00:00","replies":[],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":2,"published":2,"answered":0}}');
INSERT INTO "events" VALUES(10,'2026-12-07T13:58:16.329+00:00','qa.question','all','{"question":{"id":2,"item_id":"review-qa","text":"An anonymous worry","author":"","organisation":"","anonymous":true,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:16.329+00:00","replies":[]},"removed":false,"new":true,"counters":{"received":2,"published":2,"answered":0}}');
INSERT INTO "events" VALUES(11,'2026-12-07T13:58:16.329+00:00','qa.mine','q:2','{"question":{"id":2,"item_id":"review-qa","text":"An anonymous worry","state":"published","anonymous":true,"answered":"","reject_reason":"","reject_text":"","merged_into":null}}');
INSERT INTO "events" VALUES(12,'2026-12-07T13:58:16.374+00:00','qa.votes','all','{"votes":{"1":1}}');
INSERT INTO "events" VALUES(13,'2026-12-07T13:58:22.367+00:00','roster.joined','staff','{"count":5}');
INSERT INTO "events" VALUES(14,'2026-12-07T13:58:22.397+00:00','roster.joined','staff','{"count":6}');
INSERT INTO "events" VALUES(15,'2026-12-07T13:58:22.444+00:00','roster.joined','staff','{"count":7}');
INSERT INTO "events" VALUES(16,'2026-12-07T13:58:22.527+00:00','roster.joined','staff','{"count":8}');
INSERT INTO "events" VALUES(17,'2026-12-07T13:58:22.534+00:00','qa.question','staff','{"question":{"id":3,"item_id":"review-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:22.534+00:00","replies":[],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":3,"published":3,"answered":0}}');
INSERT INTO "events" VALUES(18,'2026-12-07T13:58:22.534+00:00','qa.question','all','{"question":{"id":3,"item_id":"review-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:22.534+00:00","replies":[]},"removed":false,"new":true,"counters":{"received":3,"published":3,"answered":0}}');
INSERT INTO "events" VALUES(19,'2026-12-07T13:58:22.534+00:00','qa.mine','q:3','{"question":{"id":3,"item_id":"review-qa","text":"Will the slides be shared?","state":"published","anonymous":false,"answered":"","reject_reason":"","reject_text":"","merged_into":null}}');
INSERT INTO "events" VALUES(20,'2026-12-07T13:58:22.537+00:00','qa.question','staff','{"question":{"id":4,"item_id":"review-qa","text":"An anonymous worry","author":"","organisation":"","anonymous":true,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:22.537+00:00","replies":[],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":4,"published":4,"answered":0}}');
INSERT INTO "events" VALUES(21,'2026-12-07T13:58:22.537+00:00','qa.question','all','{"question":{"id":4,"item_id":"review-qa","text":"An anonymous worry","author":"","organisation":"","anonymous":true,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:22.537+00:00","replies":[]},"removed":false,"new":true,"counters":{"received":4,"published":4,"answered":0}}');
INSERT INTO "events" VALUES(22,'2026-12-07T13:58:22.537+00:00','qa.mine','q:4','{"question":{"id":4,"item_id":"review-qa","text":"An anonymous worry","state":"published","anonymous":true,"answered":"","reject_reason":"","reject_text":"","merged_into":null}}');
INSERT INTO "events" VALUES(23,'2026-12-07T13:58:22.541+00:00','qa.votes','all','{"votes":{"3":1}}');
INSERT INTO "events" VALUES(24,'2026-12-07T13:58:22.545+00:00','qa.question','staff','{"question":{"id":3,"item_id":"review-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":1,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:22.534+00:00","replies":[{"id":1,"author":"Panel","role":"host","text":"Yes, after the event.","is_answer":false,"created_at":"2026-12-07T13:58:22.545+00:00","hidden":false}],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":4,"published":4,"answered":0}}');
INSERT INTO "events" VALUES(25,'2026-12-07T13:58:22.545+00:00','qa.question','all','{"question":{"id":3,"item_id":"review-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":1,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:22.534+00:00","replies":[{"id":1,"author":"Panel","role":"host","text":"Yes, after the event.","is_answer":false,"created_at":"2026-12-07T13:58:22.545+00:00"}]},"removed":false,"new":false,"counters":{"received":4,"published":4,"answered":0}}');
INSERT INTO "events" VALUES(26,'2026-12-07T13:58:22.590+00:00','agenda.state','all','{"phase":"running","now":"2026-12-07T13:58:22.590+00:00","current":"welcome","current_started_at":"2026-12-07T13:58:22.590+00:00","current_ends_at":"2026-12-07T14:08:22.590+00:00","remaining_seconds":600.0,"paused":false,"held":false,"overrun":false,"next":"national-review-updates","next_starts_at":"2026-12-07T14:08:22.590+00:00","drift_seconds":22.590919,"drift_text":"on time","projected_end":"2026-12-07T16:28:22.590+00:00","slide":0,"schedule":[{"id":"welcome","state":"current","start":"2026-12-07T13:58:22.590+00:00","end":"2026-12-07T14:08:22.590+00:00","planned_start":"2026-12-07T13:58:00.000+00:00","planned_end":"2026-12-07T14:08:00.000+00:00"},{"id":"national-review-updates","state":"upcoming","start":"2026-12-07T14:08:22.590+00:00","end":"2026-12-07T14:28:22.590+00:00","planned_start":"2026-12-07T14:08:00.000+00:00","planned_end":"2026-12-07T14:28:00.000+00:00"},{"id":"review-qa","state":"upcoming","start":"2026-12-07T14:28:22.590+00:00","end":"2026-12-07T14:43:22.590+00:00","planned_start":"2026-12-07T14:28:00.000+00:00","planned_end":"2026-12-07T14:43:00.000+00:00"},{"id":"lcspr","state":"upcoming","start":"2026-12-07T14:43:22.590+00:00","end":"2026-12-07T15:08:22.590+00:00","planned_start":"2026-12-07T14:43:00.000+00:00","planned_end":"2026-12-07T15:08:00.000+00:00"},{"id":"lcspr-qa","state":"upcoming","start":"2026-12-07T15:08:22.590+00:00","end":"2026-12-07T15:28:22.590+00:00","planned_start":"2026-12-07T15:08:00.000+00:00","planned_end":"2026-12-07T15:28:00.000+00:00"},{"id":"lcspr-breakout","state":"upcoming","start":"2026-12-07T15:28:22.590+00:00","end":"2026-12-07T15:48:22.590+00:00","planned_start":"2026-12-07T15:28:00.000+00:00","planned_end":"2026-12-07T15:48:00.000+00:00"},{"id":"breakout-feedback","state":"upcoming","start":"2026-12-07T15:48:22.590+00:00","end":"2026-12-07T16:13:22.590+00:00","planned_start":"2026-12-07T15:48:00.000+00:00","planned_end":"2026-12-07T16:13:00.000+00:00"},{"id":"closing-remarks","state":"upcoming","start":"2026-12-07T16:13:22.590+00:00","end":"2026-12-07T16:28:22.590+00:00","planned_start":"2026-12-07T16:13:00.000+00:00","planned_end":"2026-12-07T16:28:00.000+00:00"}]}');
INSERT INTO "events" VALUES(27,'2026-12-07T13:58:22.611+00:00','agenda.state','all','{"phase":"running","now":"2026-12-07T13:58:22.611+00:00","current":"lcspr-breakout","current_started_at":"2026-12-07T13:58:22.611+00:00","current_ends_at":"2026-12-07T14:18:22.611+00:00","remaining_seconds":1200.0,"paused":false,"held":false,"overrun":false,"next":"breakout-feedback","next_starts_at":"2026-12-07T14:18:22.611+00:00","drift_seconds":-5377.388494,"drift_text":"1 h 29 min ahead","projected_end":"2026-12-07T14:58:22.611+00:00","slide":null,"schedule":[{"id":"welcome","state":"done","start":"2026-12-07T13:58:22.590+00:00","end":"2026-12-07T13:58:22.611+00:00","planned_start":"2026-12-07T13:58:00.000+00:00","planned_end":"2026-12-07T14:08:00.000+00:00"},{"id":"national-review-updates","state":"not_run","start":"2026-12-07T14:08:00.000+00:00","end":"2026-12-07T14:28:00.000+00:00","planned_start":"2026-12-07T14:08:00.000+00:00","planned_end":"2026-12-07T14:28:00.000+00:00"},{"id":"review-qa","state":"not_run","start":"2026-12-07T14:28:00.000+00:00","end":"2026-12-07T14:43:00.000+00:00","planned_start":"2026-12-07T14:28:00.000+00:00","planned_end":"2026-12-07T14:43:00.000+00:00"},{"id":"lcspr","state":"not_run","start":"2026-12-07T14:43:00.000+00:00","end":"2026-12-07T15:08:00.000+00:00","planned_start":"2026-12-07T14:43:00.000+00:00","planned_end":"2026-12-07T15:08:00.000+00:00"},{"id":"lcspr-qa","state":"not_run","start":"2026-12-07T15:08:00.000+00:00","end":"2026-12-07T15:28:00.000+00:00","planned_start":"2026-12-07T15:08:00.000+00:00","planned_end":"2026-12-07T15:28:00.000+00:00"},{"id":"lcspr-breakout","state":"current","start":"2026-12-07T13:58:22.611+00:00","end":"2026-12-07T14:18:22.611+00:00","planned_start":"2026-12-07T15:28:00.000+00:00","planned_end":"2026-12-07T15:48:00.000+00:00"},{"id":"breakout-feedback","state":"upcoming","start":"2026-12-07T14:18:22.611+00:00","end":"2026-12-07T14:43:22.611+00:00","planned_start":"2026-12-07T15:48:00.000+00:00","planned_end":"2026-12-07T16:13:00.000+00:00"},{"id":"closing-remarks","state":"upcoming","start":"2026-12-07T14:43:22.611+00:00","end":"2026-12-07T14:58:22.611+00:00","planned_start":"2026-12-07T16:13:00.000+00:00","planned_end":"2026-12-07T16:28:00.000+00:00"}]}');
INSERT INTO "events" VALUES(28,'2026-12-07T13:58:22.622+00:00','breakout.round','all','{"round":1,"item_id":"lcspr-breakout","state":"open","capture_open":true,"ended_at":null,"message":"","groups":0}');
INSERT INTO "events" VALUES(29,'2026-12-07T13:58:22.622+00:00','breakout.grid','staff','{"round":1,"item_id":"lcspr-breakout","state":"open","oversize":"","topics":["When your partnership is considering a further review, are you confident that there is a flexibility of approach and an identification of a methodology best suited to expose the issues within the case?","What might be the circumstances in your view when a review other than a LCSPR is warranted?","In what ways would an alternative review differ from a proportionate LCSPR?","Can you anticipate any difficulties in completing LCSPRs that adopt some of the different methodologies set out and still capture the voice of the practitioner and of the family?","Can you anticipate any difficulties in conducting LCSPRs using a range of methodologies and then making them available through publication to the wider safeguarding system in the country?"],"by_topic":{"0":0,"1":0,"2":0,"3":0,"4":0},"groups":[]}');
INSERT INTO "events" VALUES(30,'2026-12-07T13:58:27.771+00:00','roster.joined','staff','{"count":9}');
INSERT INTO "events" VALUES(31,'2026-12-07T13:58:27.819+00:00','roster.joined','staff','{"count":10}');
INSERT INTO "events" VALUES(32,'2026-12-07T13:58:27.864+00:00','roster.joined','staff','{"count":11}');
INSERT INTO "events" VALUES(33,'2026-12-07T13:58:27.918+00:00','roster.joined','staff','{"count":12}');
INSERT INTO "events" VALUES(34,'2026-12-07T13:58:27.950+00:00','qa.question','staff','{"question":{"id":5,"item_id":"lcspr-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:27.950+00:00","replies":[],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":5,"published":5,"answered":0}}');
INSERT INTO "events" VALUES(35,'2026-12-07T13:58:27.950+00:00','qa.question','all','{"question":{"id":5,"item_id":"lcspr-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:27.950+00:00","replies":[]},"removed":false,"new":true,"counters":{"received":5,"published":5,"answered":0}}');
INSERT INTO "events" VALUES(36,'2026-12-07T13:58:27.950+00:00','qa.mine','q:5','{"question":{"id":5,"item_id":"lcspr-qa","text":"Will the slides be shared?","state":"published","anonymous":false,"answered":"","reject_reason":"","reject_text":"","merged_into":null}}');
INSERT INTO "events" VALUES(37,'2026-12-07T13:58:27.955+00:00','qa.question','staff','{"question":{"id":6,"item_id":"lcspr-qa","text":"An anonymous worry","author":"","organisation":"","anonymous":true,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:27.955+00:00","replies":[],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":6,"published":6,"answered":0}}');
INSERT INTO "events" VALUES(38,'2026-12-07T13:58:27.955+00:00','qa.question','all','{"question":{"id":6,"item_id":"lcspr-qa","text":"An anonymous worry","author":"","organisation":"","anonymous":true,"state":"published","votes":0,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:27.955+00:00","replies":[]},"removed":false,"new":true,"counters":{"received":6,"published":6,"answered":0}}');
INSERT INTO "events" VALUES(39,'2026-12-07T13:58:27.955+00:00','qa.mine','q:6','{"question":{"id":6,"item_id":"lcspr-qa","text":"An anonymous worry","state":"published","anonymous":true,"answered":"","reject_reason":"","reject_text":"","merged_into":null}}');
INSERT INTO "events" VALUES(40,'2026-12-07T13:58:27.959+00:00','qa.votes','all','{"votes":{"5":1}}');
INSERT INTO "events" VALUES(41,'2026-12-07T13:58:27.974+00:00','qa.question','staff','{"question":{"id":5,"item_id":"lcspr-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":1,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:27.950+00:00","replies":[{"id":2,"author":"Panel","role":"host","text":"Yes, after the event.","is_answer":false,"created_at":"2026-12-07T13:58:27.974+00:00","hidden":false}],"held_by_filter":false,"reject_reason":"","merged_into":null},"counters":{"received":6,"published":6,"answered":0}}');
INSERT INTO "events" VALUES(42,'2026-12-07T13:58:27.974+00:00','qa.question','all','{"question":{"id":5,"item_id":"lcspr-qa","text":"Will the slides be shared?","author":"Ann Archer","organisation":"Leeds SP","anonymous":false,"state":"published","votes":1,"answered":"","highlighted":false,"pinned":false,"edited_by_host":false,"created_at":"2026-12-07T13:58:27.950+00:00","replies":[{"id":2,"author":"Panel","role":"host","text":"Yes, after the event.","is_answer":false,"created_at":"2026-12-07T13:58:27.974+00:00"}]},"removed":false,"new":false,"counters":{"received":6,"published":6,"answered":0}}');
INSERT INTO "events" VALUES(43,'2026-12-07T13:58:27.977+00:00','agenda.state','all','{"phase":"running","now":"2026-12-07T13:58:27.977+00:00","current":"closing-remarks","current_started_at":"2026-12-07T13:58:27.977+00:00","current_ends_at":"2026-12-07T14:13:27.977+00:00","remaining_seconds":900.0,"paused":false,"held":false,"overrun":false,"next":null,"next_starts_at":null,"drift_seconds":-8072.022801,"drift_text":"2 h 14 min ahead","projected_end":"2026-12-07T14:13:27.977+00:00","slide":0,"schedule":[{"id":"welcome","state":"done","start":"2026-12-07T13:58:22.590+00:00","end":"2026-12-07T13:58:22.611+00:00","planned_start":"2026-12-07T13:58:00.000+00:00","planned_end":"2026-12-07T14:08:00.000+00:00"},{"id":"national-review-updates","state":"not_run","start":"2026-12-07T14:08:00.000+00:00","end":"2026-12-07T14:28:00.000+00:00","planned_start":"2026-12-07T14:08:00.000+00:00","planned_end":"2026-12-07T14:28:00.000+00:00"},{"id":"review-qa","state":"not_run","start":"2026-12-07T14:28:00.000+00:00","end":"2026-12-07T14:43:00.000+00:00","planned_start":"2026-12-07T14:28:00.000+00:00","planned_end":"2026-12-07T14:43:00.000+00:00"},{"id":"lcspr","state":"not_run","start":"2026-12-07T14:43:00.000+00:00","end":"2026-12-07T15:08:00.000+00:00","planned_start":"2026-12-07T14:43:00.000+00:00","planned_end":"2026-12-07T15:08:00.000+00:00"},{"id":"lcspr-qa","state":"not_run","start":"2026-12-07T15:08:00.000+00:00","end":"2026-12-07T15:28:00.000+00:00","planned_start":"2026-12-07T15:08:00.000+00:00","planned_end":"2026-12-07T15:28:00.000+00:00"},{"id":"lcspr-breakout","state":"done","start":"2026-12-07T13:58:22.611+00:00","end":"2026-12-07T13:58:27.977+00:00","planned_start":"2026-12-07T15:28:00.000+00:00","planned_end":"2026-12-07T15:48:00.000+00:00"},{"id":"breakout-feedback","state":"not_run","start":"2026-12-07T15:48:00.000+00:00","end":"2026-12-07T16:13:00.000+00:00","planned_start":"2026-12-07T15:48:00.000+00:00","planned_end":"2026-12-07T16:13:00.000+00:00"},{"id":"closing-remarks","state":"current","start":"2026-12-07T13:58:27.977+00:00","end":"2026-12-07T14:13:27.977+00:00","planned_start":"2026-12-07T16:13:00.000+00:00","planned_end":"2026-12-07T16:28:00.000+00:00"}]}');
INSERT INTO "events" VALUES(44,'2026-12-07T13:58:27.978+00:00','breakout.round','all','{"round":1,"item_id":"lcspr-breakout","state":"ended","capture_open":true,"ended_at":"2026-12-07T13:58:27.978+00:00","message":"","groups":0}');
INSERT INTO "events" VALUES(45,'2026-12-07T13:58:27.978+00:00','breakout.grid','staff','{"round":1,"item_id":"lcspr-breakout","state":"ended","oversize":"","topics":["When your partnership is considering a further review, are you confident that there is a flexibility of approach and an identification of a methodology best suited to expose the issues within the case?","What might be the circumstances in your view when a review other than a LCSPR is warranted?","In what ways would an alternative review differ from a proportionate LCSPR?","Can you anticipate any difficulties in completing LCSPRs that adopt some of the different methodologies set out and still capture the voice of the practitioner and of the family?","Can you anticipate any difficulties in conducting LCSPRs using a range of methodologies and then making them available through publication to the wider safeguarding system in the country?"],"by_topic":{"0":0,"1":0,"2":0,"3":0,"4":0},"groups":[]}');
CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
INSERT INTO "meta" VALUES('session_secret','o0I_rP-ezN1KqxGyIoahjczB_rtaEQf6Jb_It0GocIL_hfWqkEE3ZM87hafNlyHn');
INSERT INTO "meta" VALUES('host_token','grSdopNvmaQXyH0UnebKrhHsAu8N3NRt');
INSERT INTO "meta" VALUES('organiser_token','lCyMN_2wcEsrPbcvGoLB5vES6ThlQR3J');
INSERT INTO "meta" VALUES('join_code','QXZ5DRFP');
INSERT INTO "meta" VALUES('planned_start','2026-12-07T13:58:00+00:00');
CREATE TABLE participants (
        id           TEXT PRIMARY KEY,
        role         TEXT NOT NULL CHECK (role IN ('attendee', 'host', 'organiser')),
        name         TEXT,
        organisation TEXT,
        created_at   TEXT NOT NULL
    , removed_at TEXT, survey_responded INTEGER NOT NULL DEFAULT 0
        CHECK (survey_responded IN (0, 1)));
INSERT INTO "participants" VALUES('BvO0VWE_RHaQMju6HtPKBg','host','Host',NULL,'2026-12-07T13:58:15.894+00:00',NULL,0);
INSERT INTO "participants" VALUES('Yx3Z5WP7QjpJaVzLQQOjLQ','attendee','Ann Archer','Leeds SP','2026-12-07T13:58:15.967+00:00',NULL,0);
INSERT INTO "participants" VALUES('ZxYamjfFsEfnnsHMt70XzA','attendee','Ben Baker','NHS Trust','2026-12-07T13:58:16.039+00:00',NULL,0);
INSERT INTO "participants" VALUES('MeXHvUXHA6hVcZQsyfvEFQ','attendee','Cat Cole','Police','2026-12-07T13:58:16.213+00:00',NULL,0);
INSERT INTO "participants" VALUES('xNn0Y-vmmgM5k3402KURBA','attendee','Dev Dean','Kirklees SP','2026-12-07T13:58:16.265+00:00',NULL,0);
INSERT INTO "participants" VALUES('9Ce9NfYuORv86Bb0A8Db-Q','host','Host',NULL,'2026-12-07T13:58:22.326+00:00',NULL,0);
INSERT INTO "participants" VALUES('U6cA1J0BHsUjdzQ6MXdGYA','attendee','Ann Archer','Leeds SP','2026-12-07T13:58:22.367+00:00',NULL,0);
INSERT INTO "participants" VALUES('5ia4Bz3emPCq72I6zxkDEQ','attendee','Ben Baker','NHS Trust','2026-12-07T13:58:22.397+00:00',NULL,0);
INSERT INTO "participants" VALUES('cRcq3OXBhRlQbSevhR0neA','attendee','Cat Cole','Police','2026-12-07T13:58:22.444+00:00',NULL,0);
INSERT INTO "participants" VALUES('WB0q5btBx4i80KvVs8AuDg','attendee','Dev Dean','Kirklees SP','2026-12-07T13:58:22.527+00:00',NULL,0);
INSERT INTO "participants" VALUES('ZI_34fovAIcxZLhFQ5V-eQ','host','Host',NULL,'2026-12-07T13:58:27.723+00:00',NULL,0);
INSERT INTO "participants" VALUES('tfpW055RdklwzqYH4cw-Nw','attendee','Ann Archer','Leeds SP','2026-12-07T13:58:27.771+00:00',NULL,1);
INSERT INTO "participants" VALUES('JnUA0cVyrZpBRm4nMC8THA','attendee','Ben Baker','NHS Trust','2026-12-07T13:58:27.819+00:00',NULL,1);
INSERT INTO "participants" VALUES('TAaP0dPqh64qeyqjpkRgiQ','attendee','Cat Cole','Police','2026-12-07T13:58:27.864+00:00',NULL,1);
INSERT INTO "participants" VALUES('6dUkCl2rKfhn8n2QwLHYEg','attendee','Dev Dean','Kirklees SP','2026-12-07T13:58:27.918+00:00',NULL,0);
CREATE TABLE preassignments (
        match_key     TEXT PRIMARY KEY,
        group_number  INTEGER NOT NULL,
        line          INTEGER NOT NULL
    );
CREATE TABLE questions (
        id              INTEGER PRIMARY KEY,
        item_id         TEXT NOT NULL,
        text            TEXT NOT NULL,
        author_id       TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name     TEXT,
        author_org      TEXT,
        anonymous       INTEGER NOT NULL DEFAULT 0,
        key_hash        TEXT NOT NULL UNIQUE,
        state           TEXT NOT NULL
            CHECK (state IN ('pending', 'published', 'rejected', 'hidden', 'merged')),
        reject_reason   TEXT NOT NULL DEFAULT '',
        merged_into     INTEGER REFERENCES questions(id),
        answered        TEXT NOT NULL DEFAULT '' CHECK (answered IN ('', 'live', 'written')),
        highlighted     INTEGER NOT NULL DEFAULT 0,
        pinned          INTEGER NOT NULL DEFAULT 0,
        edited_by_host  INTEGER NOT NULL DEFAULT 0,
        held_by_filter  INTEGER NOT NULL DEFAULT 0,
        votes           INTEGER NOT NULL DEFAULT 0,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        CHECK (anonymous = 0 OR (author_id IS NULL AND author_name IS NULL
                                 AND author_org IS NULL))
    );
INSERT INTO "questions" VALUES(1,'review-qa','Will the slides be shared?','Yx3Z5WP7QjpJaVzLQQOjLQ','Ann Archer','Leeds SP',0,'e00aceee52a31b8e75b5d7755910bf5e0d5652e73b3f890aa1f9b77b5c13b73a','published','',NULL,'',0,0,0,0,1,'2026-12-07T13:58:16.273363+00:00','2026-12-07T13:58:16.273363+00:00');
INSERT INTO "questions" VALUES(2,'review-qa','An anonymous worry',NULL,NULL,NULL,1,'15aa6901db19f38d9b0abde809f243708aee58592b71f0d177a1aac1399a8b84','published','',NULL,'',0,0,0,0,0,'2026-12-07T13:58:16.329118+00:00','2026-12-07T13:58:16.329118+00:00');
INSERT INTO "questions" VALUES(3,'review-qa','Will the slides be shared?','U6cA1J0BHsUjdzQ6MXdGYA','Ann Archer','Leeds SP',0,'d31e5d4982a90ab2c61cffed5ef2d326fadaaa9baf9026f69e03859eb3b27f28','published','',NULL,'',0,0,0,0,1,'2026-12-07T13:58:22.534957+00:00','2026-12-07T13:58:22.534957+00:00');
INSERT INTO "questions" VALUES(4,'review-qa','An anonymous worry',NULL,NULL,NULL,1,'fb80712789596d393edea17cd3092641f063a1dafe88d4ec227673ecb36059eb','published','',NULL,'',0,0,0,0,0,'2026-12-07T13:58:22.537884+00:00','2026-12-07T13:58:22.537884+00:00');
INSERT INTO "questions" VALUES(5,'lcspr-qa','Will the slides be shared?','tfpW055RdklwzqYH4cw-Nw','Ann Archer','Leeds SP',0,'218d728817745da65de2d196791fac041f526864439e820c9d2e3d649d3211f8','published','',NULL,'',0,0,0,0,1,'2026-12-07T13:58:27.950774+00:00','2026-12-07T13:58:27.950774+00:00');
INSERT INTO "questions" VALUES(6,'lcspr-qa','An anonymous worry',NULL,NULL,NULL,1,'2627bd60457a543b090ed4a19354d0e21469ebef11d0c760b4917e9605da5046','published','',NULL,'',0,0,0,0,0,'2026-12-07T13:58:27.955487+00:00','2026-12-07T13:58:27.955487+00:00');
CREATE TABLE replies (
        id           INTEGER PRIMARY KEY,
        question_id  INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        author_id    TEXT REFERENCES participants(id) ON DELETE SET NULL,
        author_name  TEXT,
        role         TEXT NOT NULL,
        text         TEXT NOT NULL,
        is_answer    INTEGER NOT NULL DEFAULT 0,
        key_hash     TEXT NOT NULL UNIQUE,
        created_at   TEXT NOT NULL
    , hidden INTEGER NOT NULL DEFAULT 0);
INSERT INTO "replies" VALUES(1,3,'9Ce9NfYuORv86Bb0A8Db-Q','Panel','host','Yes, after the event.',0,'56167ed7c298cc8eb6eb954039bd35a0bd8c6e25641d855856011355b3017b7e','2026-12-07T13:58:22.545+00:00',0);
INSERT INTO "replies" VALUES(2,5,'ZI_34fovAIcxZLhFQ5V-eQ','Panel','host','Yes, after the event.',0,'7f63d0f76ac51ee1040aa0c92df4414466edeefda236c14daf61586a63163938','2026-12-07T13:58:27.974+00:00',0);
CREATE TABLE run_state (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        state      TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
INSERT INTO "run_state" VALUES(1,'{"started_at":"2026-12-07T13:58:22.590919+00:00","ended_at":null,"current_id":"closing-remarks","current_started_at":"2026-12-07T13:58:27.977199+00:00","extension":0,"paused_at":null,"paused_total":0,"held":false,"slide":0,"skipped":[],"history":[{"item_id":"welcome","started_at":"2026-12-07T13:58:22.590919+00:00","ended_at":"2026-12-07T13:58:22.611506+00:00","outcome":"ended_early","extension":0,"paused":0},{"item_id":"lcspr-breakout","started_at":"2026-12-07T13:58:22.611506+00:00","ended_at":"2026-12-07T13:58:27.977199+00:00","outcome":"ended_early","extension":0,"paused":0}]}','2026-12-07T13:58:27.977+00:00');
CREATE TABLE sessions (
        id             TEXT PRIMARY KEY,
        participant_id TEXT NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
        created_at     TEXT NOT NULL
    );
INSERT INTO "sessions" VALUES('HysDmSPTGBWkLGymsYxRj6zDvtg-HQerGpzDvPqCA1w','BvO0VWE_RHaQMju6HtPKBg','2026-12-07T13:58:15.894+00:00');
INSERT INTO "sessions" VALUES('uHIJfb4dhj91ARtjlAZ6lkjobHsuetAFGzjteoiWLww','Yx3Z5WP7QjpJaVzLQQOjLQ','2026-12-07T13:58:15.967+00:00');
INSERT INTO "sessions" VALUES('yt8vTUYKBnxgRpeypkvGUWAEvGMYJS_HNUS7pGE-nys','ZxYamjfFsEfnnsHMt70XzA','2026-12-07T13:58:16.039+00:00');
INSERT INTO "sessions" VALUES('X5gYqtZDmV_rHzEYej92w7nL3_DTCttTTd41oMJm_R4','MeXHvUXHA6hVcZQsyfvEFQ','2026-12-07T13:58:16.213+00:00');
INSERT INTO "sessions" VALUES('-H4yhNljwioM2_G-_9nu-nGWB9M_fbYFMWHpskzK0vc','xNn0Y-vmmgM5k3402KURBA','2026-12-07T13:58:16.265+00:00');
INSERT INTO "sessions" VALUES('A5Qf_DVpL-E9A20MG3EU3W91dJCAiaWdM9WAhFHc0sQ','9Ce9NfYuORv86Bb0A8Db-Q','2026-12-07T13:58:22.326+00:00');
INSERT INTO "sessions" VALUES('ln963FRD7qKC62fCD0Y0HC75t8o-UF-wvUKga2g-o1w','U6cA1J0BHsUjdzQ6MXdGYA','2026-12-07T13:58:22.367+00:00');
INSERT INTO "sessions" VALUES('qJqs6eA_HfVg92eJwu672jaoe9PcBsb4RWOu6pmsk4M','5ia4Bz3emPCq72I6zxkDEQ','2026-12-07T13:58:22.397+00:00');
INSERT INTO "sessions" VALUES('OiKnPrEDEX1ztVr3_lzRChS0lKCu7Bvjljbyl54HcaA','cRcq3OXBhRlQbSevhR0neA','2026-12-07T13:58:22.444+00:00');
INSERT INTO "sessions" VALUES('0p3ViQ0c9OYJhGi4EXZvRsffgclhPg3bjR7W-lC41Go','WB0q5btBx4i80KvVs8AuDg','2026-12-07T13:58:22.527+00:00');
INSERT INTO "sessions" VALUES('Fodn9lA8KBXMhTPNQ1AiXkwSA7z8t0EuSwjMMQrnPRg','ZI_34fovAIcxZLhFQ5V-eQ','2026-12-07T13:58:27.723+00:00');
INSERT INTO "sessions" VALUES('918DhGOj2JO1viaQVhj8hNSLepCg9T3kh3BQux8iq20','tfpW055RdklwzqYH4cw-Nw','2026-12-07T13:58:27.771+00:00');
INSERT INTO "sessions" VALUES('twblJIDeHle3HxcFfnmumvVFo64af8ph-jy6Cqxfth8','JnUA0cVyrZpBRm4nMC8THA','2026-12-07T13:58:27.819+00:00');
INSERT INTO "sessions" VALUES('tJoNQJk7kH7DBFjnvEG1e8q9u3pBeiIFH1OWvOTGO_w','TAaP0dPqh64qeyqjpkRgiQ','2026-12-07T13:58:27.864+00:00');
INSERT INTO "sessions" VALUES('xbFmpPw8sTI0XPIzhV4Svw_LF9fS92cpqLse7sXBCI0','6dUkCl2rKfhn8n2QwLHYEg','2026-12-07T13:58:27.918+00:00');
CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
CREATE TABLE "survey_responses" (
        key_hash        TEXT PRIMARY KEY,
        participant_id  TEXT REFERENCES participants(id) ON DELETE SET NULL,
        breakout_group  INTEGER,
        answers         TEXT NOT NULL,
        submitted       INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
INSERT INTO "survey_responses" VALUES('388dd89e36c00cd09f66cf8743ad0eefa20adeb1e25cdb375a848508fe5c87f7',NULL,NULL,'{"overall": 4, "role": "Police", "comments": "Useful"}',1);
INSERT INTO "survey_responses" VALUES('a65477b013468618394e0160a944f6adbf3bf66e7f0fed9a39838c1814156cc3',NULL,NULL,'{"overall": 4, "role": "Police", "comments": "Useful"}',1);
INSERT INTO "survey_responses" VALUES('e5294f37df35af33514fc0b59a6f88c5dd72fba02374af03e6045c696bab73a3',NULL,NULL,'{"overall": 4, "role": "Police", "comments": "Useful"}',1);
CREATE TABLE votes (
        question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
        voter_id    TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (question_id, voter_id)
    ) WITHOUT ROWID;
INSERT INTO "votes" VALUES(1,'MeXHvUXHA6hVcZQsyfvEFQ','2026-12-07T13:58:16.367+00:00');
INSERT INTO "votes" VALUES(3,'cRcq3OXBhRlQbSevhR0neA','2026-12-07T13:58:22.540+00:00');
INSERT INTO "votes" VALUES(5,'TAaP0dPqh64qeyqjpkRgiQ','2026-12-07T13:58:27.958+00:00');
CREATE INDEX sessions_participant ON sessions(participant_id);
CREATE INDEX questions_item ON questions(item_id, state);
CREATE INDEX questions_author ON questions(author_id);
CREATE INDEX replies_question ON replies(question_id);
CREATE VIEW survey_respondents AS
        SELECT id AS participant_id FROM participants WHERE survey_responded = 1;
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('events',45);
COMMIT;
