// netops report: draws the map from the JSON embedded in the page (no network needed).
//
// Layers, bottom to top: district and town outlines and names (orientation), trenches (ok and
// the by-design hotspot spurs muted, real weaknesses on top, thicker the more sites a cut takes
// down, all lines thinner at city zoom), then sites in panes by importance (hotspots lowest,
// clustered at city zoom; clinics and PoPs highest).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("netops-data").textContent);
  var phone = window.matchMedia("(max-width: 760px)").matches;

  var KIND_COLOURS = {
    core: "#000000", school: "#1f78b4", kindergarten: "#33a02c", hospital: "#e31a1c",
    business_park: "#6a3d9a", hotspot: "#ff7f00", cabinet: "#777777",
    public_building: "#b15928", small_cell: "#a6cee3"
  };
  var KIND_LABELS = {
    core: "PoP (core)", hospital: "clinic", school: "school", kindergarten: "Kita", business_park: "business park",
    public_building: "public building", cabinet: "cabinet", small_cell: "small cell", hotspot: "FreeWiFi hotspot"
  };
  // most important first: pane order (z-index) and marker size follow it
  var IMPORTANCE = ["core", "hospital", "school", "business_park", "kindergarten", "public_building",
                    "cabinet", "small_cell", "hotspot"];
  var RADIUS = { core: 9, hospital: 9, school: 7, business_park: 7, kindergarten: 6, public_building: 5,
                 cabinet: 3, small_cell: 3, hotspot: 4 };
  var TRENCH_STYLES = {  // drawn in this order: the worst on top
    ok: { color: "#4d9a5c", weight: 2, opacity: 0.65 },
    spur: { color: "#9e9e9e", weight: 1.5, opacity: 0.8 },
    full: { color: "#7b3294", weight: 5, opacity: 0.9 },
    shared: { color: "#f08c00", weight: 5, opacity: 0.9 },
    spof: { color: "#d7191c", weight: 5, opacity: 0.95 }
  };
  var TRENCH_LABELS = {
    spof: "single point of failure", shared: "shared by redundant paths", full: "ducts full",
    spur: "hotspot spur (single uplink by design)", ok: "ok"
  };
  var PLANNED_COLOUR = "#2b83ba";
  var GRADED = { spof: true, shared: true };  // drawn thicker the more sites their cut takes down
  var FULL_WIDTH_FROM_ZOOM = 14;  // lines and markers at their full size from here on
  var CLUSTER_PX = 40;  // hotspots closer than this on screen share one cluster marker
  var CLUSTER_BELOW_ZOOM = 17;  // from this zoom on every hotspot is drawn on its own

  var map = L.map("map", { preferCanvas: false, zoomSnap: 0.25 });
  var offline = L.layerGroup().addTo(map);
  var osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"
  });

  function pane(name, zIndex) {
    map.createPane(name).style.zIndex = String(zIndex);
    return name;
  }
  pane("areas", 300);
  pane("area-labels", 590);
  map.getPane("area-labels").style.pointerEvents = "none";
  IMPORTANCE.forEach(function (kind, i) { pane("sites-" + kind, 680 - i * 8); });
  // hotspot groups above the public buildings they surround (translucent), below the Kitas
  pane("hotspot-clusters", 644);
  pane("customers", 600);  // above the area names, below every site

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value === null || value === undefined ? "" : String(value);
    return span.innerHTML;
  }

  // -- orientation: Stadtbezirke and Stadtteile, Gladbeck's and Bottrop's towns and PLZ areas --
  var WHOLE_AREAS = { stadtbezirk: true, town: true };  // bold outline, big label
  var overlays = {};
  var districts = L.layerGroup().addTo(map);
  var boroughs = L.layerGroup().addTo(map);
  var approximate = false;
  data.areas.forEach(function (area) {
    var borough = WHOLE_AREAS[area.level] === true;
    approximate = approximate || area.approximate;
    L.polygon(area.rings, {
      pane: "areas", interactive: false, fill: !borough, fillColor: "#e9e6dc", fillOpacity: 0.35,
      color: borough ? "#6b6b6b" : "#a9a9a9", weight: borough ? 2.5 : 1, dashArray: borough ? null : "4 4",
      className: "area area-" + area.level
    }).addTo(borough ? boroughs : districts);
    L.marker(area.label_at, {
      pane: "area-labels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "area-label area-label-" + area.level, html: text(area.label || area.name),
                        iconSize: null })
    }).addTo(borough ? boroughs : districts);
  });
  var suffix = approximate ? " (approximate)" : "";
  overlays["Stadtteile, PLZ areas" + suffix] = districts;
  overlays["Stadtbezirke, towns" + suffix] = boroughs;

  // -- trenches and cables ------------------------------------------------------------------
  var trenchLayers = {};
  Object.keys(TRENCH_STYLES).forEach(function (status) { trenchLayers[status] = L.layerGroup(); });
  var planned = L.layerGroup();
  var bounds = L.latLngBounds([]);
  var trenchLines = [];
  // full width: a cut of one site's spur draws 2/3 of the worst's width, of 7 or more sites all of it
  function trenchWeight(t) {
    if (t.planned) { return 3; }
    var grade = GRADED[t.status] ? Math.min(1, 0.5 + Math.log2(1 + t.cuts) / 6) : 1;
    return TRENCH_STYLES[t.status].weight * grade;
  }
  data.trenches.forEach(function (t) {
    var style = TRENCH_STYLES[t.status];
    var line = L.polyline(t.coords, {
      color: t.planned ? PLANNED_COLOUR : style.color, weight: trenchWeight(t),
      opacity: t.planned ? 0.9 : style.opacity, dashArray: t.planned ? "6 6" : null,
      className: "trench trench-" + t.status
    }).bindTooltip(text(t.code) + " — " + TRENCH_LABELS[t.status] +
                   (t.cuts ? ", a cut takes down " + t.cuts + " site(s)" : "") + ", ducts " + text(t.ducts));
    line.fullWeight = trenchWeight(t);
    trenchLines.push(line);
    bounds.extend(line.getBounds());
    line.addTo(t.planned ? planned : trenchLayers[t.status]);
  });
  Object.keys(TRENCH_STYLES).forEach(function (status) {
    var group = trenchLayers[status];
    if (!group.getLayers().length) { return; }
    group.addTo(map);
    overlays['<span style="color:' + TRENCH_STYLES[status].color + '">&#9644;</span> trench: ' +
             TRENCH_LABELS[status]] = group;
  });

  var cableLayers = {};
  data.cables.forEach(function (c) {
    if (!cableLayers[c.status]) { cableLayers[c.status] = L.layerGroup(); }
    L.polyline(c.segments.map(function (i) { return data.trenches[i].coords; }), {
      color: c.planned ? PLANNED_COLOUR : TRENCH_STYLES[c.status].color, weight: 2, opacity: 0.9,
      dashArray: c.planned ? "6 6" : "2 4", className: "cable cable-" + c.status
    }).bindTooltip(text(c.code) + " — " + TRENCH_LABELS[c.status] + ", " + c.strands + " strands")
      .addTo(cableLayers[c.status]);
  });
  Object.keys(TRENCH_STYLES).forEach(function (status) {
    if (cableLayers[status]) {
      overlays['<span style="color:' + TRENCH_STYLES[status].color + '">&#8943;</span> cable: ' +
               TRENCH_LABELS[status]] = cableLayers[status];
    }
  });

  // -- sites ---------------------------------------------------------------------------------
  function hasWeakness(site) {
    return site.findings.some(function (i) {
      var f = data.findings[i];
      return !f.by_design && (f.severity === "critical" || f.severity === "warning");
    });
  }

  function siteMarker(site, index) {
    var weak = hasWeakness(site);
    var marker = L.circleMarker([site.lat, site.lon], {
      pane: "sites-" + (RADIUS[site.kind] ? site.kind : "cabinet"),
      radius: RADIUS[site.kind] || 4,
      color: weak ? "#d7191c" : (site.connected ? "#222" : "#999"), weight: weak ? 3 : (site.connected ? 1 : 2),
      fillColor: KIND_COLOURS[site.kind] || "#999", fillOpacity: site.connected ? 0.9 : 0.3,
      dashArray: site.planned ? "3 3" : null,
      className: "site site-" + site.kind + (site.planned ? " site-planned" : "") + (weak ? " site-weak" : "")
    }).bindTooltip(text(site.name) + " (" + text(KIND_LABELS[site.kind] || site.kind) + ")");
    marker.on("click", function () { showSite(index); });
    marker.baseRadius = marker.getRadius();
    siteMarkers.push(marker);
    return marker;
  }

  // markers and lines shrink when the whole network fits the screen, so they do not merge
  // into blots (thousands of buildings, three towns, a red spur per single-fibre school)
  function markerScale() {
    return Math.min(1, Math.max(0.5, 0.55 + (map.getZoom() - 11) * 0.25));
  }
  function lineScale() {
    return Math.min(1, Math.max(0.45, 1 - (FULL_WIDTH_FROM_ZOOM - map.getZoom()) * 0.18));
  }
  function resizeMarkers() {
    var scale = markerScale(), lines = lineScale();
    siteMarkers.concat(scaledMarkers).forEach(function (m) { m.setRadius(m.baseRadius * scale); });
    trenchLines.forEach(function (l) { l.setStyle({ weight: Math.max(1, l.fullWeight * lines) }); });
    document.body.dataset.lineScale = lines.toFixed(2);
  }

  var siteLayers = {};
  var siteMarkers = [];
  var scaledMarkers = [];  // other markers that shrink with the sites' at city zoom
  var hotspots = [];  // [site, index] of the existing hotspots, clustered below
  var drawn = 0;
  data.sites.forEach(function (site, index) {
    bounds.extend([site.lat, site.lon]);
    if (site.planned) { siteMarker(site, index).addTo(planned); drawn += 1; return; }
    if (site.kind === "hotspot") { hotspots.push([site, index]); return; }
    if (!siteLayers[site.kind]) { siteLayers[site.kind] = L.layerGroup().addTo(map); }
    siteMarker(site, index).addTo(siteLayers[site.kind]);
    drawn += 1;
  });

  // hotspots: greedy distance clustering on screen (each hotspot joins the first group whose
  // first member is within CLUSTER_PX, else starts one); a group of several is one marker
  // with the count (click zooms in). Redrawn on every zoom; single hotspots keep their marker.
  var hotspotLayer = L.layerGroup();
  var hotspotMarkers = hotspots.map(function (pair) { return siteMarker(pair[0], pair[1]); });
  function clusterHotspots() {
    hotspotLayer.clearLayers();
    var zoom = map.getZoom();
    var groups = [];
    hotspots.forEach(function (pair, i) {
      var p = map.project([pair[0].lat, pair[0].lon], zoom);
      var group = zoom >= CLUSTER_BELOW_ZOOM ? null : groups.find(function (g) { return g.at.distanceTo(p) < CLUSTER_PX; });
      if (group) { group.members.push(i); } else { groups.push({ at: p, members: [i] }); }
    });
    var clusters = 0;
    groups.forEach(function (group) {
      var members = group.members;
      if (members.length === 1) { hotspotMarkers[members[0]].addTo(hotspotLayer); return; }
      clusters += 1;
      var area = L.latLngBounds(members.map(function (i) { return [hotspots[i][0].lat, hotspots[i][0].lon]; }));
      var size = members.length < 10 ? 26 : (members.length < 50 ? 32 : 38);
      L.marker(area.getCenter(), {
        pane: "hotspot-clusters", title: members.length + " hotspots",
        icon: L.divIcon({ className: "hotspot-cluster", html: "<span>" + members.length + "</span>",
                          iconSize: [size, size] })
      }).on("click", function () { map.fitBounds(area.pad(0.3), { maxZoom: CLUSTER_BELOW_ZOOM }); })
        .addTo(hotspotLayer);
    });
    document.body.dataset.hotspotClusters = String(clusters);
  }
  hotspotLayer.addTo(map);
  siteLayers.hotspot = hotspotLayer;
  drawn += hotspots.length;

  // -- customers: one marker per Stadtteil at city zoom, the buildings themselves zoomed in --
  var CUSTOMER_COLOUR = "#3f6fb5";
  var BUILDINGS_FROM_ZOOM = 15;
  function customerText(name, c) {
    return text(name) + ": " + c.companies + " companies (" + c.business_lines + " lines), homes " +
      c.units_connected + " connected / " + c.units_passed + " passed";
  }
  var customerAreas = L.layerGroup();
  (data.customer_areas || []).forEach(function (a) {
    var weight = a.counts.units_passed + 10 * a.counts.business_lines;
    var marker = L.circleMarker([a.lat, a.lon], {
      pane: "customers", radius: Math.min(28, 5 + Math.sqrt(weight) / 2), color: CUSTOMER_COLOUR, weight: 1.5,
      fillColor: CUSTOMER_COLOUR, fillOpacity: 0.18, className: "customer-area"
    }).bindTooltip(customerText(a.district, a.counts)).addTo(customerAreas);
    marker.baseRadius = marker.getRadius();
    scaledMarkers.push(marker);  // shrinks with the sites' markers at city zoom
  });
  var customerBuildings = L.layerGroup();
  var buildingRenderer = L.canvas({ pane: "customers" });
  (data.customer_buildings || []).forEach(function (b) {
    L.circleMarker([b.lat, b.lon], {
      renderer: buildingRenderer, radius: 3, color: CUSTOMER_COLOUR, weight: 1,
      fillColor: b.counts.units_connected || b.counts.companies ? CUSTOMER_COLOUR : "#ffffff", fillOpacity: 0.8
    }).bindTooltip(customerText(b.code, b.counts)).addTo(customerBuildings);
  });
  var customers = L.layerGroup();
  function showCustomers() {  // aggregate or buildings, by zoom: both are the one "customers" layer
    var near = map.getZoom() >= BUILDINGS_FROM_ZOOM;
    customers.removeLayer(near ? customerAreas : customerBuildings);
    customers.addLayer(near ? customerBuildings : customerAreas);
    document.body.dataset.customerMarkers = String(near ? customerBuildings.getLayers().length
                                                        : customerAreas.getLayers().length);
  }
  if (customerAreas.getLayers().length) {
    customers.addTo(map);
    overlays['<span style="color:' + CUSTOMER_COLOUR + '">&#9711;</span> customers (by Stadtteil; buildings zoomed in)'] = customers;
  }

  IMPORTANCE.forEach(function (kind) {
    if (siteLayers[kind]) {
      overlays['<span style="color:' + KIND_COLOURS[kind] + '">&#9679;</span> ' + KIND_LABELS[kind]] = siteLayers[kind];
    }
  });
  planned.addTo(map);
  overlays["planned connections (dashed)"] = planned;

  L.control.layers(
    // folded on every screen: unfolded, its 20 rows cover a third of the network
    { "no background (offline)": offline, "OpenStreetMap (online)": osm }, overlays, { collapsed: true }
  ).addTo(map);
  fillLegend();
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: phone ? [8, 8] : [16, 16] }); } else { map.setView([51.54, 7.08], 12); }
  map.on("zoomend", function () { clusterHotspots(); resizeMarkers(); showCustomers(); });
  clusterHotspots();
  resizeMarkers();
  showCustomers();

  // -- legend (beside the map on a desktop, folded below it on a phone) ----------------------
  function fillLegend() {
    var box = document.getElementById("legend");
    box.open = !phone;
    var rows = Object.keys(TRENCH_STYLES).slice().reverse().map(function (status) {
      var s = TRENCH_STYLES[status];
      return '<li><svg width="26" height="10"><line x1="0" y1="5" x2="26" y2="5" stroke="' + s.color +
        '" stroke-width="' + s.weight + '"/></svg> trench: ' + TRENCH_LABELS[status] + "</li>";
    });
    rows.push('<li><svg width="26" height="10"><line x1="0" y1="5" x2="26" y2="5" stroke="' + PLANNED_COLOUR +
              '" stroke-width="3" stroke-dasharray="6 6"/></svg> planned trench or site</li>');
    IMPORTANCE.forEach(function (kind) {
      if (!siteLayers[kind]) { return; }
      rows.push('<li><svg width="26" height="20"><circle cx="13" cy="10" r="' + RADIUS[kind] + '" fill="' +
                KIND_COLOURS[kind] + '" stroke="#222"/></svg> ' + KIND_LABELS[kind] + "</li>");
    });
    rows.push('<li><svg width="26" height="20"><circle cx="13" cy="10" r="6" fill="#1f78b4" stroke="#d7191c" ' +
              'stroke-width="3"/></svg> site with a critical or warning finding</li>');
    rows.push('<li><svg width="26" height="10"><line x1="0" y1="5" x2="26" y2="5" stroke="' + TRENCH_STYLES.spof.color +
              '" stroke-width="2"/></svg> thinner: a cut takes down one site; thicker: many</li>');
    rows.push('<li><span class="hotspot-cluster legend-cluster"><span>12</span></span> hotspots grouped (click to zoom in)</li>');
    if (customerAreas.getLayers().length) {
      rows.push('<li><svg width="26" height="20"><circle cx="13" cy="10" r="8" fill="' + CUSTOMER_COLOUR +
                '" fill-opacity="0.18" stroke="' + CUSTOMER_COLOUR + '"/></svg> customers of a Stadtteil ' +
                "(companies and homes; zoom in for the buildings)</li>");
    }
    box.innerHTML = "<summary>Legend</summary><ul>" + rows.join("") + "</ul>" +
      '<p class="legend-note">Grey spurs feed only hotspots, which have one uplink by design; red, orange and ' +
      "purple trenches are the weaknesses to fix. Layers: the button at the map's top right." +
      (approximate ? " Outlines are approximate (derived from one point per Stadtteil or, in Gladbeck and Bottrop, " +
                     "per PLZ area; not official boundaries)." : "") +
      "</p>";
  }

  // -- site panel ------------------------------------------------------------------------------
  function list(items, render) {
    if (!items.length) { return "<p class=\"muted\">none</p>"; }
    return "<ul>" + items.map(function (item) { return "<li>" + render(item) + "</li>"; }).join("") + "</ul>";
  }

  function id(value) {  // an identifier: wraps between identifiers, never inside one
    return '<span class="id">' + text(value) + "</span>";
  }

  function showSite(index) {
    var site = data.sites[index];
    var redundancy = site.redundant ? "yes" : "no";
    var html = "<h3>" + text(site.name) + "</h3>" +
      "<p>" + id(site.code) + " · " + text(site.kind) + " · " + text(site.status) + " · " + text(site.district) + "</p>" +
      "<p>connected: <b>" + (site.connected ? "yes" : "no") + "</b> · trench-disjoint redundancy: <b>" + redundancy + "</b></p>" +
      "<h4>Devices</h4>" + list(site.devices, function (d) {
        return "<code>" + id(d.name) + "</code> " + text(d.role) + " (" + text(d.platform) + ") " + id(d.mgmt_ip || "");
      }) +
      "<h4>Links to other sites</h4>" + list(site.uplinks, function (u) {
        return id(u.local_device) + " → " + id(u.peer_device) + " @ " + id(u.peer_site) + " [" + text(u.medium) + "]" +
          (u.cables.length ? " via " + u.cables.map(id).join(", ") : "");
      }) +
      "<h4>Paths to the core</h4>" + list(site.paths_to_core, function (p) { return p.map(id).join(" → "); }) +
      "<h4>Findings</h4>" + list(site.findings, function (i) {
        var f = data.findings[i];
        return "<span class=\"sev sev-" + text(f.severity) + "\">" + text(f.severity) + "</span> " + text(f.message) +
          (f.by_design ? " <span class=\"muted\">(by design)</span>" : "");
      });
    var panel = document.getElementById("site-panel");
    panel.innerHTML = html;
    panel.dataset.site = site.code;
  }

  window.netopsMap = map;  // for the browser tests and the curious reader's console
  document.body.dataset.sitesDrawn = String(drawn);
  document.body.dataset.trenchesDrawn = String(data.trenches.length);
  document.body.dataset.status = "ready";
})();
