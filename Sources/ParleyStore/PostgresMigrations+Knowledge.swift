extension PostgresMigrations {
    /// Knowledge bases, their readers, documents (with the uploaded bytes, so ingestion survives restarts) and
    /// passages. Each passage carries a generated `tsvector` (English stemming and stop words) under a GIN index,
    /// so full-text search is updated as passages come and go and never rebuilt for a query. Vectors are stored
    /// with their passage: one signed byte per dimension and a scale.
    static let knowledgeBases = [
        """
        CREATE TABLE kb_bases (
            id UUID PRIMARY KEY,
            owner_id TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            embedding_model TEXT,
            embedding_dimensions INTEGER,
            shared_with_everyone BOOLEAN NOT NULL DEFAULT FALSE,
            index_version BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "CREATE INDEX kb_bases_by_owner ON kb_bases (owner_id, updated_at)",
        """
        CREATE TABLE kb_readers (
            base_id UUID NOT NULL REFERENCES kb_bases (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            PRIMARY KEY (base_id, user_id)
        )
        """,
        "CREATE INDEX kb_readers_by_user ON kb_readers (user_id)",
        """
        CREATE TABLE kb_documents (
            id UUID PRIMARY KEY,
            base_id UUID NOT NULL REFERENCES kb_bases (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT,
            byte_count BIGINT NOT NULL,
            sha256 TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before BIGINT NOT NULL DEFAULT 0,
            lease_holder TEXT,
            lease_until BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            UNIQUE (base_id, sha256)
        )
        """,
        "CREATE INDEX kb_documents_by_base ON kb_documents (base_id, created_at)",
        "CREATE INDEX kb_documents_pending ON kb_documents (created_at) WHERE status IN ('queued', 'processing')",
        """
        CREATE TABLE kb_document_content (
            document_id UUID PRIMARY KEY REFERENCES kb_documents (id) ON DELETE CASCADE,
            content BYTEA NOT NULL
        )
        """,
        """
        CREATE TABLE kb_chunks (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            document_id UUID NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
            base_id UUID NOT NULL,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            heading_path TEXT NOT NULL DEFAULT '',
            page INTEGER,
            start_offset INTEGER NOT NULL,
            end_offset INTEGER NOT NULL,
            token_count INTEGER NOT NULL,
            vector BYTEA,
            vector_scale REAL,
            search tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', heading_path), 'B') || to_tsvector('english', text)
            ) STORED
        )
        """,
        "CREATE INDEX kb_chunks_by_base ON kb_chunks (base_id, id)",
        "CREATE INDEX kb_chunks_by_document ON kb_chunks (document_id, ordinal)",
        "CREATE INDEX kb_chunks_search ON kb_chunks USING gin (search)",
    ]

    /// A change of a base's embedding model, worked on under a lease like a document's ingestion; the new vectors
    /// are stored beside the current ones until all are made, then replace them in one step.
    static let reembedding = [
        """
        CREATE TABLE kb_reembeddings (
            base_id UUID PRIMARY KEY REFERENCES kb_bases (id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before BIGINT NOT NULL DEFAULT 0,
            lease_holder TEXT,
            lease_until BIGINT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        )
        """,
        "ALTER TABLE kb_chunks ADD COLUMN next_vector BYTEA, ADD COLUMN next_vector_scale REAL",
    ]
}
