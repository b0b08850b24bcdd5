extension SQLiteMigrations {
    /// Knowledge bases, their readers, documents (with the uploaded bytes, so ingestion survives restarts) and
    /// passages. Passages are full-text indexed by FTS5 (Porter stemming, accents folded), kept in step by
    /// triggers, so the index is updated as passages come and go and never rebuilt for a query. Vectors are
    /// stored with their passage: one signed byte per dimension and a scale.
    static let knowledgeBases = """
        CREATE TABLE kb_bases (
            id TEXT PRIMARY KEY NOT NULL,
            owner_id TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            embedding_model TEXT,
            embedding_dimensions INTEGER,
            shared_with_everyone INTEGER NOT NULL DEFAULT 0,
            index_version INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX kb_bases_by_owner ON kb_bases (owner_id, updated_at);
        CREATE TABLE kb_readers (
            base_id TEXT NOT NULL REFERENCES kb_bases (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            PRIMARY KEY (base_id, user_id)
        );
        CREATE INDEX kb_readers_by_user ON kb_readers (user_id);
        CREATE TABLE kb_documents (
            id TEXT PRIMARY KEY NOT NULL,
            base_id TEXT NOT NULL REFERENCES kb_bases (id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT,
            byte_count INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            chunk_count INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before INTEGER NOT NULL DEFAULT 0,
            lease_holder TEXT,
            lease_until INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (base_id, sha256)
        );
        CREATE INDEX kb_documents_by_base ON kb_documents (base_id, created_at);
        CREATE INDEX kb_documents_pending ON kb_documents (created_at) WHERE status IN ('queued', 'processing');
        CREATE TABLE kb_document_content (
            document_id TEXT PRIMARY KEY NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
            content BLOB NOT NULL
        );
        CREATE TABLE kb_chunks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id TEXT NOT NULL REFERENCES kb_documents (id) ON DELETE CASCADE,
            base_id TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            heading_path TEXT NOT NULL DEFAULT '',
            page INTEGER,
            start_offset INTEGER NOT NULL,
            end_offset INTEGER NOT NULL,
            token_count INTEGER NOT NULL,
            vector BLOB,
            vector_scale REAL
        );
        CREATE INDEX kb_chunks_by_base ON kb_chunks (base_id, id);
        CREATE INDEX kb_chunks_by_document ON kb_chunks (document_id, ordinal);
        CREATE VIRTUAL TABLE kb_chunks_fts USING fts5(
            text, heading_path, content = 'kb_chunks', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER kb_chunks_fts_insert AFTER INSERT ON kb_chunks BEGIN
            INSERT INTO kb_chunks_fts (rowid, text, heading_path) VALUES (new.id, new.text, new.heading_path);
        END;
        CREATE TRIGGER kb_chunks_fts_delete AFTER DELETE ON kb_chunks BEGIN
            INSERT INTO kb_chunks_fts (kb_chunks_fts, rowid, text, heading_path)
            VALUES ('delete', old.id, old.text, old.heading_path);
        END;
        """

    /// A change of a base's embedding model, worked on under a lease like a document's ingestion; the new vectors
    /// are stored beside the current ones until all are made, then replace them in one step.
    static let reembedding = """
        CREATE TABLE kb_reembeddings (
            base_id TEXT PRIMARY KEY NOT NULL REFERENCES kb_bases (id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before INTEGER NOT NULL DEFAULT 0,
            lease_holder TEXT,
            lease_until INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        ALTER TABLE kb_chunks ADD COLUMN next_vector BLOB;
        ALTER TABLE kb_chunks ADD COLUMN next_vector_scale REAL;
        """
}
