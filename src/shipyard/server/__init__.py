"""The Shipyard server: a FastAPI app over a Store and a BlobStore."""
