"""Hybrid FAQ retrieval: language-aware BM25, dense embeddings, fusion and calibration.

Everything here is plain Python over in-memory documents; `faq_ingest.index` owns turning
the FAQ table into snapshots of it.
"""
