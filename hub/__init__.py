"""aftersales-hub: app wiring, command line and web views of the after-sales integration hub."""
