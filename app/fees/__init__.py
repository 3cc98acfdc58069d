"""Fees: invoices with line items from the processes' tariff tables, payable by bill ID."""
