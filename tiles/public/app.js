// 养老地图: the map page of diming. Everything comes from this server (offline networks):
// vector tiles /tiles/…, geocoding /v1/geocode (fallback: /v1/divisions), nearby facilities
// /v1/facilities/nearby (fallback: straight-line distance at 1.0 m/s).
(function () {
  'use strict';
  var TYPES = [
    ['institution', '养老机构', '#d7263d'],
    ['service_center', '综合为老服务中心', '#1b998b'],
    ['day_care', '日间照料中心', '#f46036'],
    ['meal_point', '助餐点/老年食堂', '#2e86de'],
    ['activity_room', '老年活动室', '#8e44ad'],
    ['home_care_station', '居家养老服务站', '#c5a100']
  ];
  var ZH = {}; TYPES.forEach(function (t) { ZH[t[0]] = t[1]; });
  var WALK_MPS = 1.0, MINUTES = 15;
  var origin = location.origin;
  var LAYERS = 'divisions,roads,boundary_lines,facilities,coverage,addresses';
  var colorExpr = ['match', ['get', 'type']];
  TYPES.forEach(function (t) { colorExpr.push(t[0], t[2]); });
  colorExpr.push('#666');

  var style = {
    version: 8,
    sources: {
      diming: { type: 'vector', tiles: [origin + '/tiles/' + LAYERS + '/{z}/{x}/{y}.pbf'], minzoom: 0, maxzoom: 16 }
    },
    layers: [
      { id: 'bg', type: 'background', paint: { 'background-color': '#e8edf2' } },
      { id: 'divisions-fill', type: 'fill', source: 'diming', 'source-layer': 'divisions',
        paint: { 'fill-color': '#fbfaf5', 'fill-opacity': 0.95 } },
      { id: 'roads-casing', type: 'line', source: 'diming', 'source-layer': 'roads', minzoom: 11,
        paint: { 'line-color': '#c9d1da', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 1, 16, 7] } },
      { id: 'roads', type: 'line', source: 'diming', 'source-layer': 'roads', minzoom: 11,
        paint: { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.5, 16, 5] } },
      { id: 'coverage-fill', type: 'fill', source: 'diming', 'source-layer': 'coverage',
        layout: { visibility: 'none' },
        filter: ['has', 'covered_share'],
        paint: { 'fill-color': ['interpolate', ['linear'], ['to-number', ['get', 'covered_share'], 0],
          0, '#f7d4d4', 0.5, '#f6e58d', 1, '#7bc67b'], 'fill-opacity': 0.6 } },
      { id: 'coverage-areas', type: 'line', source: 'diming', 'source-layer': 'coverage',
        layout: { visibility: 'none' }, filter: ['!', ['has', 'covered_share']],
        paint: { 'line-color': '#1b998b', 'line-width': 1.5, 'line-dasharray': [2, 1] } },
      { id: 'boundary-lines', type: 'line', source: 'diming', 'source-layer': 'boundary_lines',
        paint: { 'line-color': '#7a8797', 'line-width': ['interpolate', ['linear'], ['zoom'], 6, 0.6, 14, 2] } },
      { id: 'inspection-lines', type: 'line', source: 'diming', 'source-layer': 'boundary_lines',
        layout: { visibility: 'none' },
        paint: { 'line-color': ['case', ['>', ['to-number', ['get', 'fault_count'], 0], 0], '#e02020', '#3556a8'],
          'line-width': 4, 'line-opacity': 0.8 } },
      { id: 'addresses', type: 'circle', source: 'diming', 'source-layer': 'addresses', minzoom: 15,
        paint: { 'circle-radius': 2.5, 'circle-color': '#98a3b0' } },
      { id: 'facilities', type: 'circle', source: 'diming', 'source-layer': 'facilities',
        paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 3, 14, 8, 17, 11],
          'circle-color': colorExpr, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } }
    ]
  };

  var map = new maplibregl.Map({ container: 'map', style: style, center: [121.48, 31.23], zoom: 13,
    attributionControl: false, maxZoom: 19 });
  window.dimingMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');

  // ---- legend and filters ----
  var enabled = {};
  var typesEl = document.getElementById('types');
  TYPES.forEach(function (t) {
    enabled[t[0]] = true;
    var li = document.createElement('li');
    li.innerHTML = '<label><input type="checkbox" checked data-type="' + t[0] + '"> <span class="swatch" style="background:' +
      t[2] + '"></span> ' + t[1] + '</label>';
    typesEl.appendChild(li);
  });
  function applyFilter() {
    var on = Object.keys(enabled).filter(function (k) { return enabled[k]; });
    map.setFilter('facilities', ['in', ['get', 'type'], ['literal', on]]);
  }
  typesEl.addEventListener('change', function (e) {
    var ty = e.target.getAttribute('data-type');
    if (ty) { enabled[ty] = e.target.checked; applyFilter(); }
  });
  function vis(id, on) { map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none'); }
  document.getElementById('t-coverage').addEventListener('change', function (e) {
    vis('coverage-fill', e.target.checked); vis('coverage-areas', e.target.checked);
    var note = document.getElementById('coverage-note');
    note.textContent = '';
    if (e.target.checked) {
      fetch(origin + '/tiles/coverage.json').then(function (r) { return r.json(); }).then(function (tj) {
        var l = (tj.vector_layers || [])[0];
        if (l && l.available === false) note.textContent = '覆盖率数据尚未接入本服务。';
      }).catch(function () {});
    }
  });
  document.getElementById('t-divisions').addEventListener('change', function (e) { vis('boundary-lines', e.target.checked); });
  document.getElementById('t-inspection').addEventListener('change', function (e) { vis('inspection-lines', e.target.checked); });

  // ---- facility card ----
  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function price(p) {
    if (p.price_min == null && p.price_max == null) return '—';
    if (p.price_min != null && p.price_max != null && p.price_min !== p.price_max) return p.price_min + '–' + p.price_max + ' 元/月';
    return (p.price_min != null ? p.price_min : p.price_max) + ' 元/月';
  }
  function showCard(p) {
    document.getElementById('card-name').textContent = p.name || '';
    var photo = document.getElementById('card-photo');
    photo.innerHTML = p.photo_url && /^\//.test(p.photo_url) ? '<img alt="设施照片" src="' + esc(p.photo_url) + '">' : '<div class="nophoto">暂无照片</div>';
    var rows = [['类型', ZH[p.type] || p.type_zh || p.type], ['等级', p.level || '—'],
      ['床位', p.beds != null ? p.beds + ' 张' + (p.nursing_beds != null ? '（护理床位 ' + p.nursing_beds + '）' : '') : '—'],
      ['价格', price(p)], ['地址', p.address || '—'], ['电话', p.phone || '—'], ['时间', p.hours || '—']];
    if (p.walk_minutes != null) rows.push(['步行', p.walk_minutes + ' 分钟']);
    var html = rows.map(function (r) { return '<dt>' + r[0] + '</dt><dd>' + esc(r[1]) + '</dd>'; }).join('');
    if (p.synthetic === true || p.synthetic === 'true') html += '<dt></dt><dd class="synthetic">示例数据（合成，非真实机构）</dd>';
    document.getElementById('card-fields').innerHTML = html;
    document.getElementById('card').hidden = false;
  }
  document.getElementById('card-close').addEventListener('click', function () { document.getElementById('card').hidden = true; });
  map.on('click', 'facilities', function (e) { if (e.features && e.features[0]) showCard(e.features[0].properties); });
  map.on('mouseenter', 'facilities', function () { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'facilities', function () { map.getCanvas().style.cursor = ''; });
  map.on('click', 'inspection-lines', function (e) {
    var p = e.features[0].properties, html;
    if (p.source === 'division_outline') {
      html = '<b>' + esc(p.name) + '</b>（' + esc(p.code) + '）<br>行政区划轮廓；界线巡检数据尚未接入。';
    } else {
      html = '<b>界线 ' + esc(p.id || p.code) + '</b>';
      if (p.a_name) html += '<br>' + esc(p.a_name) + (p.b_name ? ' — ' + esc(p.b_name) : '（外边界）');
      if (p.length_m != null) html += '<br>长度：' + (Number(p.length_m) / 1000).toFixed(2) + ' 千米';
      if (p.kind === 'fault') html += '<br>问题：' + esc(p.fault) + (p.area_m2 != null ? '，面积 ' + Math.round(p.area_m2) + ' 平方米' : '');
      html += '<br>问题数：' + esc(p.fault_count || 0);
      if (p.source === 'served_divisions') html += '<br>来源：当前服务的行政区划（未提交巡检）';
      if (p.report_url) html += '<br><a target="_blank" href="' + esc(p.report_url) + '">查看巡检报告</a>';
    }
    new maplibregl.Popup().setLngLat(e.lngLat).setHTML(html).addTo(map);
  });

  // ---- search and nearby ----
  var status = document.getElementById('search-status');
  var marker = null;
  function getJSON(url) {
    return fetch(origin + url).then(function (r) {
      if (r.status === 404) return { notFound: true };
      if (!r.ok) return r.json().then(function (b) { throw new Error((b.error && b.error.message) || r.status); });
      return r.json();
    });
  }
  function centerOf(geom) {
    var b = [180, 90, -180, -90];
    (function walk(c) {
      if (typeof c[0] === 'number') { b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])]; }
      else c.forEach(walk);
    })(geom.coordinates);
    return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
  }
  // fallback geocoder: the divisions named in the text (上海市黄浦区 → 黄浦区 within 上海市)
  function geocodeByDivision(q) {
    var parts = q.match(/.+?(?:自治区|自治州|特别行政区|省|市|区|县|旗|镇|乡|街道)/g) || [q];
    var i = parts.length - 1;
    function next() {
      if (i < 0) return Promise.resolve(null);
      var name = parts[i--];
      return getJSON('/v1/divisions?name=' + encodeURIComponent(name)).then(function (r) {
        var hits = (r.results || []).filter(function (d) {
          return d.has_polygon && parts.every(function (p) { return d.full_name.indexOf(p) >= 0 || p === name; });
        });
        if (!hits.length) return next();
        return getJSON('/v1/divisions/' + hits[0].code + '?geometry=true').then(function (d) {
          var c = centerOf(d.geometry);
          return { lon: c[0], lat: c[1], label: d.full_name, method: '区划中心（地址库未接入）' };
        });
      });
    }
    return next();
  }
  function geocode(q) {
    return getJSON('/v1/geocode?q=' + encodeURIComponent(q) + '&crs=wgs84').then(function (r) {
      if (r.notFound) return geocodeByDivision(q);
      var c = (r.candidates || [])[0];
      if (!c) return geocodeByDivision(q);
      return { lon: c.lon, lat: c.lat, label: c.address, method: '标准地址' };
    });
  }
  function haversine(a, b) {
    var R = 6371008.8, r = Math.PI / 180;
    var dLat = (b[1] - a[1]) * r, dLon = (b[0] - a[0]) * r;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a[1] * r) * Math.cos(b[1] * r) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * R * Math.asin(Math.sqrt(h));
  }
  function straightLine(at, list) {
    return list.map(function (f) {
      var d = haversine(at, [f.lon, f.lat]);
      var o = Object.assign({}, f); o.walk_m = Math.round(d); o.walk_minutes = Math.round(d / WALK_MPS / 6) / 10; return o;
    }).filter(function (f) { return f.walk_minutes <= MINUTES; });
  }
  function fromTiles() {
    var seen = {};
    return map.querySourceFeatures('diming', { sourceLayer: 'facilities' }).map(function (f) { return f.properties; })
      .filter(function (p) { if (seen[p.id]) return false; seen[p.id] = 1; return true; });
  }
  function nearby(at) {
    var q = 'lon=' + at[0] + '&lat=' + at[1] + '&crs=wgs84';
    return getJSON('/v1/facilities/nearby?' + q + '&minutes=' + MINUTES).then(function (r) {
      if (!r.notFound) return { method: '步行路网（' + (r.method || '服务端') + '）', list: r.facilities || [] };
      var d = 0.02, bbox = [at[0] - d, at[1] - d, at[0] + d, at[1] + d].join(',');
      return getJSON('/v1/facilities?bbox=' + bbox + '&crs=wgs84').then(function (r2) {
        var list = r2.notFound ? fromTiles() : (r2.facilities || []);
        return { method: '直线距离估算（步速 1.0 米/秒）', list: straightLine(at, list) };
      });
    });
  }
  function renderNearby(res) {
    document.getElementById('nearby').hidden = false;
    document.getElementById('nearby-method').textContent = '计算方法：' + res.method;
    var ol = document.getElementById('nearby-list');
    ol.innerHTML = '';
    res.list.sort(function (a, b) { return a.walk_minutes - b.walk_minutes; });
    if (!res.list.length) ol.innerHTML = '<li>15分钟内没有设施</li>';
    res.list.forEach(function (f) {
      var li = document.createElement('li');
      li.textContent = f.name + ' · ' + (ZH[f.type] || f.type) + ' · 约' + f.walk_minutes + '分钟';
      li.addEventListener('click', function () { map.flyTo({ center: [f.lon, f.lat], zoom: 16 }); showCard(f); });
      ol.appendChild(li);
    });
  }
  document.getElementById('search').addEventListener('submit', function (e) {
    e.preventDefault();
    var q = document.getElementById('q').value.trim();
    if (!q) return;
    status.textContent = '正在查找…';
    geocode(q).then(function (g) {
      if (!g) { status.textContent = '未找到：' + q; return; }
      status.textContent = g.label + '（' + g.method + '）';
      var at = [g.lon, g.lat];
      if (marker) marker.remove();
      marker = new maplibregl.Marker({ color: '#1f6feb' }).setLngLat(at).addTo(map);
      map.flyTo({ center: at, zoom: 15, duration: 800 });
      map.once('moveend', function () {
        map.once('idle', function () {
          nearby(at).then(renderNearby).catch(function (err) { status.textContent = '附近设施查询失败：' + err.message; });
        });
      });
    }).catch(function (err) { status.textContent = '查找失败：' + err.message; });
  });
})();
