"""The developer's composition root: runs the whole system on its embedded defaults.

Only this package knows every service; the services themselves never import each other.
"""
