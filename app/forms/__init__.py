"""Generated forms: definitions in forms/, rendered to accessible HTML and validated on the server.

Other domains render and validate user-task forms through `app.forms.services`; nothing else
here is public API.
"""
