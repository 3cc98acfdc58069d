"""The citizens' portal: service catalogue, filing, my cases, the case page and the public lookup."""
