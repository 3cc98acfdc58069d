"""Online payment of invoices through Iranian internet payment gateways, and a simulator."""
