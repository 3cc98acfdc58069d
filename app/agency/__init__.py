"""Outside agencies answering the municipality's questions, and organisations filing inquiries."""
