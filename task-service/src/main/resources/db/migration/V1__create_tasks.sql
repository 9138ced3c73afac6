-- Portable between H2 and PostgreSQL. Times are epoch milliseconds (UTC).
CREATE TABLE tasks (
    id          VARCHAR(36)   PRIMARY KEY,
    title       VARCHAR(200)  NOT NULL,
    description VARCHAR(2000) NOT NULL,
    status      VARCHAR(16)   NOT NULL,
    priority    VARCHAR(16)   NOT NULL,
    user_id     VARCHAR(64)   NOT NULL,
    created_at  BIGINT        NOT NULL,
    updated_at  BIGINT        NOT NULL
);

CREATE INDEX tasks_by_creation ON tasks (created_at, id);
CREATE INDEX tasks_by_user ON tasks (user_id, created_at, id);
