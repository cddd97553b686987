"""The compiled read path: anonymous queries answered by one PostgreSQL statement."""
