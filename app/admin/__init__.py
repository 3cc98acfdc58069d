"""Administration pages: staff, roles, districts, the working calendar and the audit trail."""
