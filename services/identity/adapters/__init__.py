"""Identity's adapters: SQL repositories, the Redis store, the password hasher; each with a fake."""
