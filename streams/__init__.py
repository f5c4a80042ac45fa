"""Stream processors of the hub: faust agents, the topics they use and the tables they keep."""
