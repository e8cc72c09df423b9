// Independent MVT decoder for the tile tests: @mapbox/vector-tile + pbf (npm), not diming's
// encoder. Usage: node decode_tile.mjs <tile file> → JSON summary on stdout.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
const require = createRequire(new URL('../../tiles/package.json', import.meta.url));
const { VectorTile } = require('@mapbox/vector-tile');
const Pbf = require('pbf');

let buf = readFileSync(process.argv[2]);
if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
const tile = new VectorTile(new Pbf(buf));
const out = {};
for (const [name, layer] of Object.entries(tile.layers)) {
  const feats = [];
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i);
    const rings = f.loadGeometry();
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, points = 0;
    // signed area per ring (surveyor's formula in tile coordinates, y down)
    const areas = rings.map((r) => {
      let s = 0;
      for (let j = 0; j < r.length; j++) {
        const a = r[j], b = r[(j + 1) % r.length];
        s += a.x * b.y - b.x * a.y;
        minX = Math.min(minX, a.x); minY = Math.min(minY, a.y);
        maxX = Math.max(maxX, a.x); maxY = Math.max(maxY, a.y);
        points++;
      }
      return s / 2;
    });
    feats.push({ id: f.id, type: ['Unknown', 'Point', 'LineString', 'Polygon'][f.type],
      properties: f.properties, bbox: [minX, minY, maxX, maxY], points, ringAreas: f.type === 3 ? areas : undefined,
      polygons: f.type === 3 ? classify(rings).length : undefined });
  }
  out[name] = { version: layer.version, extent: layer.extent, features: feats };
}
function classify(rings) {
  // vector-tile's own rule: a positive-area ring starts a polygon
  const polys = [];
  for (const r of rings) {
    let s = 0;
    for (let j = 0; j < r.length; j++) { const a = r[j], b = r[(j + 1) % r.length]; s += a.x * b.y - b.x * a.y; }
    if (s > 0) polys.push([r]); else if (polys.length) polys[polys.length - 1].push(r);
  }
  return polys;
}
process.stdout.write(JSON.stringify(out));
