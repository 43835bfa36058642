"""Inventory: what the city's network consists of (sites, devices, outside plant,
links, prices, access profiles), how it is imported and exported, and the
Gelsenkirchen dataset."""
