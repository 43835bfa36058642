"""Topology of the city network: graphs per layer (physical, cable, logical) built from
the inventory, and the resilience audits that run on them."""
