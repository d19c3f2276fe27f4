"""The digital transcript (học bạ số) of one student for one school year: its content, its PDF and XML
renderings, and their signatures (PAdES and XML-DSig). A pure library: no database, no gRPC.

See ``services/student-record/docs/transcripts.md``.
"""
