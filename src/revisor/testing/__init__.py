"""`revisor test`: every revision round-tripped on a scratch database, schemas compared."""
