// netops report: draws the map from the JSON embedded in the page (no network needed).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("netops-data").textContent);

  var KIND_COLOURS = {
    core: "#000000", school: "#1f78b4", kindergarten: "#33a02c", hospital: "#e31a1c",
    business_park: "#6a3d9a", hotspot: "#ff7f00", cabinet: "#777777",
    public_building: "#b15928", small_cell: "#a6cee3"
  };
  var TRENCH_COLOURS = { spof: "#d7191c", shared: "#fdae61", full: "#7b3294", ok: "#1a9641" };
  var PLANNED_COLOUR = "#2b83ba";
  var TRENCH_LABELS = {
    spof: "single point of failure", shared: "shared by redundant paths", full: "ducts full", ok: "ok"
  };

  var map = L.map("map", { preferCanvas: false });
  var offline = L.layerGroup().addTo(map);
  var osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap contributors"
  });

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value === null || value === undefined ? "" : String(value);
    return span.innerHTML;
  }

  var overlays = {};
  var trenchLayers = {};
  var planned = L.layerGroup();
  data.trenches.forEach(function (t) {
    var line = L.polyline(t.coords, {
      color: t.planned ? PLANNED_COLOUR : TRENCH_COLOURS[t.status], weight: t.status === "ok" ? 2 : 4, opacity: 0.85,
      dashArray: t.planned ? "6 6" : null, className: "trench trench-" + t.status
    }).bindTooltip(text(t.code) + " — " + TRENCH_LABELS[t.status] + ", ducts " + text(t.ducts));
    if (t.planned) { line.addTo(planned); return; }
    if (!trenchLayers[t.status]) { trenchLayers[t.status] = L.layerGroup().addTo(map); }
    line.addTo(trenchLayers[t.status]);
  });
  Object.keys(TRENCH_COLOURS).forEach(function (status) {
    if (trenchLayers[status]) {
      overlays['<span style="color:' + TRENCH_COLOURS[status] + '">&#9644;</span> trench: ' + TRENCH_LABELS[status]] = trenchLayers[status];
    }
  });

  // cables follow the trenches; an overlay to switch on, coloured by their own audit status
  var cableLayers = {};
  data.cables.forEach(function (c) {
    if (!cableLayers[c.status]) { cableLayers[c.status] = L.layerGroup(); }
    L.polyline(c.coords, {
      color: c.planned ? PLANNED_COLOUR : TRENCH_COLOURS[c.status], weight: 2, opacity: 0.9,
      dashArray: c.planned ? "6 6" : "2 4", className: "cable cable-" + c.status
    }).bindTooltip(text(c.code) + " — " + TRENCH_LABELS[c.status] + ", " + c.strands + " strands")
      .addTo(cableLayers[c.status]);
  });
  Object.keys(TRENCH_COLOURS).forEach(function (status) {
    if (cableLayers[status]) {
      overlays['<span style="color:' + TRENCH_COLOURS[status] + '">&#8943;</span> cable: ' + TRENCH_LABELS[status]] = cableLayers[status];
    }
  });

  var siteLayers = {};
  var bounds = [];
  var drawn = 0;
  data.sites.forEach(function (site, index) {
    var marker = L.circleMarker([site.lat, site.lon], {
      radius: site.kind === "core" ? 8 : (site.kind === "hotspot" ? 4 : 6),
      color: site.connected ? "#222" : "#999", weight: site.connected ? 1 : 2,
      fillColor: KIND_COLOURS[site.kind] || "#999", fillOpacity: site.connected ? 0.9 : 0.3,
      dashArray: site.planned ? "3 3" : null,
      className: "site site-" + site.kind + (site.planned ? " site-planned" : "")
    }).bindTooltip(text(site.name));
    marker.on("click", function () { showSite(index); });
    bounds.push([site.lat, site.lon]);
    drawn += 1;
    if (site.planned) { marker.addTo(planned); return; }
    if (!siteLayers[site.kind]) { siteLayers[site.kind] = L.layerGroup().addTo(map); }
    marker.addTo(siteLayers[site.kind]);
  });
  Object.keys(siteLayers).sort().forEach(function (kind) {
    overlays['<span style="color:' + KIND_COLOURS[kind] + '">&#9679;</span> ' + kind] = siteLayers[kind];
  });
  planned.addTo(map);
  overlays["planned connections (dashed)"] = planned;

  L.control.layers(
    { "no background (offline)": offline, "OpenStreetMap (online)": osm }, overlays, { collapsed: false }
  ).addTo(map);
  if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20] }); } else { map.setView([51.54, 7.08], 12); }

  function list(items, render) {
    if (!items.length) { return "<p class=\"muted\">none</p>"; }
    return "<ul>" + items.map(function (item) { return "<li>" + render(item) + "</li>"; }).join("") + "</ul>";
  }

  function showSite(index) {
    var site = data.sites[index];
    var redundancy = site.redundant ? "yes" : "no";
    var html = "<h3>" + text(site.name) + "</h3>" +
      "<p>" + text(site.code) + " · " + text(site.kind) + " · " + text(site.status) + " · " + text(site.district) + "</p>" +
      "<p>connected: <b>" + (site.connected ? "yes" : "no") + "</b> · trench-disjoint redundancy: <b>" + redundancy + "</b></p>" +
      "<h4>Devices</h4>" + list(site.devices, function (d) {
        return "<code>" + text(d.name) + "</code> " + text(d.role) + " (" + text(d.platform) + ") " + text(d.mgmt_ip || "");
      }) +
      "<h4>Links to other sites</h4>" + list(site.uplinks, function (u) {
        return text(u.local_device) + " → " + text(u.peer_device) + " @ " + text(u.peer_site) + " [" + text(u.medium) + "]" +
          (u.cables.length ? " via " + text(u.cables.join(", ")) : "");
      }) +
      "<h4>Paths to the core</h4>" + list(site.paths_to_core, function (p) { return text(p.join(" → ")); }) +
      "<h4>Findings</h4>" + list(site.findings, function (i) {
        var f = data.findings[i];
        return "<span class=\"sev sev-" + text(f.severity) + "\">" + text(f.severity) + "</span> " + text(f.message);
      });
    var panel = document.getElementById("site-panel");
    panel.innerHTML = html;
    panel.dataset.site = site.code;
  }

  document.body.dataset.sitesDrawn = String(drawn);
  document.body.dataset.trenchesDrawn = String(data.trenches.length);
  document.body.dataset.status = "ready";
})();
