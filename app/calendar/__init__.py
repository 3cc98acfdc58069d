"""The municipality's Jalali working calendar: weekly rules, holidays, closures, deadlines."""
