"""`serve --workers N`: a supervisor and N worker processes sharing the node's ports."""
