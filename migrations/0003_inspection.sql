-- Boundary-line joint inspection (界线联检) results. Self-contained: no dependency on the
-- divisions tables. Geometry is WGS84/CGCS2000 lon/lat (SRID 4326).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE IF NOT EXISTS inspections (
    id          uuid PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,            -- cli | http
    input       text NOT NULL,
    previous    text,
    crs         text NOT NULL,
    status      text NOT NULL,            -- running | done | failed
    params      jsonb NOT NULL,
    summary     jsonb,
    report      jsonb,                    -- the full report.json
    error       text
);

CREATE TABLE IF NOT EXISTS inspection_lines (
    inspection_id uuid NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    line_id     text NOT NULL,
    a           text NOT NULL,
    b           text,                     -- NULL: outer edge of the set
    length_m    double precision NOT NULL,
    faults      integer NOT NULL,
    change      text,
    hausdorff_m double precision,
    geom        geometry(MultiLineString, 4326),
    PRIMARY KEY (inspection_id, line_id)
);

CREATE TABLE IF NOT EXISTS inspection_faults (
    inspection_id uuid NOT NULL REFERENCES inspections(id) ON DELETE CASCADE,
    n           integer NOT NULL,
    kind        text NOT NULL,
    line_id     text NOT NULL,
    area_m2     double precision,
    width_m     double precision,
    message     text NOT NULL,
    geom        geometry(Geometry, 4326),
    PRIMARY KEY (inspection_id, n)
);
CREATE INDEX IF NOT EXISTS inspection_faults_geom ON inspection_faults USING gist (geom);
