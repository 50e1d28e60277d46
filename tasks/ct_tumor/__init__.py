"""3D CT tumor reporting with a key evidence slice (the E-MRL task)."""
