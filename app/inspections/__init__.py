"""Site inspections: inspectors' slots per district, bookings, citizen confirmation, reminders."""
