"""Case documents: uploads checked by content, stored behind an interface, served only to their owners."""
