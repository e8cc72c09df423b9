-- diming 0001: administrative divisions and their code changes (PostGIS, CGCS2000 = EPSG:4490).
-- Tables are created unqualified: they land in the first schema of search_path, so a caller
-- can isolate itself with `?options=-csearch_path%3D<schema>%2Cpublic` (see src/store/postgis.rs).
CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public;

CREATE TABLE divisions (
    id               bigserial PRIMARY KEY,
    code             text      NOT NULL CHECK (code ~ '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$'),
    stat_code        char(12)  NOT NULL,
    level            smallint  NOT NULL CHECK (level BETWEEN 1 AND 5),
    name             text      NOT NULL CHECK (name <> ''),
    parent_code      text,
    statistical_only boolean   NOT NULL DEFAULT false,
    valid_from       date,
    valid_to         date,              -- NULL = current
    synthetic        boolean   NOT NULL DEFAULT false,  -- record made by a generator
    geom_synthetic   boolean   NOT NULL DEFAULT false,  -- polygon made by a generator
    source           text      NOT NULL,
    geom_source      text,
    geom             geometry(MultiPolygon, 4490),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX divisions_current_code ON divisions (code) WHERE valid_to IS NULL;
CREATE INDEX divisions_parent ON divisions (parent_code);
CREATE INDEX divisions_name ON divisions (name);
CREATE INDEX divisions_geom ON divisions USING gist (geom);

-- Code/name changes: old division (code when known, names from the province down) → successor.
CREATE TABLE division_changes (
    id         bigserial PRIMARY KEY,
    changed_on date      NOT NULL,
    approval   text      NOT NULL DEFAULT '',
    old_code   text,
    old_path   text      NOT NULL,   -- 浙江省/杭州市/江干区
    old_short  text,                 -- 江干
    new_code   text,
    new_path   text      NOT NULL,
    source     text      NOT NULL,
    UNIQUE (changed_on, old_path, new_path)
);
CREATE INDEX division_changes_old_code ON division_changes (old_code);
