import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// No event loop of `parley serve` waits on the disk, the database, a timer or a name lookup. A small library
/// preloaded into the real binary wraps the C calls that block — SQLite's statements, reads and writes of files,
/// `fsync`, sleeps, `getaddrinfo` — and writes down any made on an event loop's thread (`NIO-…`), with its stack,
/// once the server listens.
/// The test drives what a team does (gateway calls streamed and not, a chat turn, a knowledge base's upload, its
/// ingestion and search, a grounded answer, metrics) and expects none, with Swift's tasks on their own pool (the
/// default) and on the event loops (`--tasks-on-event-loops true`), where a blocked loop would stall every
/// connection it serves.
@Suite struct EventLoopBlockingTests {
    static let watcher = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <execinfo.h>
        #include <fcntl.h>
        #include <netdb.h>
        #include <pthread.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/stat.h>
        #include <sys/vfs.h>
        #include <time.h>
        #include <unistd.h>

        static int report = -1;

        __attribute__((constructor)) static void start(void) {
            const char *path = getenv("PARLEY_BLOCKING_REPORT");
            if (path) report = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        }

        static void record(const char *call) {
            char name[32] = {0};
            if (report < 0 || pthread_getname_np(pthread_self(), name, sizeof name) != 0) return;
            if (strncmp(name, "NIO-", 4) != 0) return;
            char line[160];
            int length = snprintf(line, sizeof line, "== %s on %s\n", call, name);
            if (write(report, line, (size_t)length) < 0) return;
            void *frames[40];
            backtrace_symbols_fd(frames, backtrace(frames, 40), report);
        }

        // A file on a disk (or tmpfs): not the standard streams, not /proc, /sys or cgroups, which the kernel answers
        // from memory (the process's metrics and core count are read there).
        static int regular(int fd) {
            struct stat status;
            struct statfs system;
            if (fd <= 2 || fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) return 0;
            if (fstatfs(fd, &system) != 0) return 1;
            switch ((unsigned long)system.f_type) {
            case 0x9fa0: case 0x62656572: case 0x63677270: case 0x27e0eb: return 0;
            default: return 1;
            }
        }

        #define REAL(function) static __typeof__(function) *real; if (!real) real = (__typeof__(function) *)dlsym(RTLD_NEXT, #function)

        int fsync(int fd) { record("fsync"); REAL(fsync); return real(fd); }
        int fdatasync(int fd) { record("fdatasync"); REAL(fdatasync); return real(fd); }
        ssize_t pread64(int fd, void *bytes, size_t count, off_t at) { record("pread"); REAL(pread64); return real(fd, bytes, count, at); }
        ssize_t pwrite64(int fd, const void *bytes, size_t count, off_t at) { record("pwrite"); REAL(pwrite64); return real(fd, bytes, count, at); }
        ssize_t read(int fd, void *bytes, size_t count) { if (regular(fd)) record("read of a file"); REAL(read); return real(fd, bytes, count); }
        ssize_t write(int fd, const void *bytes, size_t count) { if (fd != report && regular(fd)) record("write of a file"); REAL(write); return real(fd, bytes, count); }
        int nanosleep(const struct timespec *duration, struct timespec *left) { record("nanosleep"); REAL(nanosleep); return real(duration, left); }
        int clock_nanosleep(clockid_t clock, int flags, const struct timespec *duration, struct timespec *left) {
            record("clock_nanosleep"); REAL(clock_nanosleep); return real(clock, flags, duration, left);
        }
        int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **found) {
            record("getaddrinfo"); REAL(getaddrinfo); return real(node, service, hints, found);
        }
        int sqlite3_step(void *statement) { record("sqlite3_step"); REAL(sqlite3_step); return real(statement); }
        int sqlite3_exec(void *db, const char *sql, void *callback, void *argument, char **error) {
            record("sqlite3_exec"); REAL(sqlite3_exec); return real(db, sql, callback, argument, error);
        }
        """#

    /// A C compiler from the PATH (the Swift toolchain brings clang).
    static func compiler() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["cc", "clang", "gcc"] {
            for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        return nil
    }

    /// Builds the watcher into `folder` and returns the library's path.
    static func buildWatcher(in folder: String) throws -> String {
        let source = folder + "/watcher.c", library = folder + "/libwatcher.so"
        try watcher.write(toFile: source, atomically: true, encoding: .utf8)
        let build = Process()
        build.executableURL = URL(fileURLWithPath: try #require(compiler(), "a C compiler on the PATH"))
        build.arguments = ["-shared", "-fPIC", "-O1", "-o", library, source, "-ldl"]
        try build.run()
        build.waitUntilExit()
        try #require(build.terminationStatus == 0, "the watcher library builds")
        return library
    }

    @Test(arguments: [false, true])
    func noEventLoopBlocks(tasksOnEventLoops: Bool) async throws {
        let workspace = try BinaryWorkspace("loop-blocking")
        defer { workspace.remove() }
        let library = try Self.buildWatcher(in: workspace.directory)
        let report = workspace.directory + "/blocking.txt"
        let mock = try await BinaryWorkspace.mock(tokens: 8, tokenDelayMs: 1)
        defer { Task { try? await mock.stop() } }
        let server = try await workspace.serve(
            upstream: mock, ["--knowledge-embedding-model", "mock-1", "--tasks-on-event-loops", "\(tasksOnEventLoops)"],
            environment: ["PATH": "/usr/bin:/bin", "PARLEY_API_KEYS": "sk-watch", "LD_PRELOAD": library,
                          "PARLEY_BLOCKING_REPORT": report])
        defer { if server.process.isRunning { server.stop(signal: SIGKILL) } }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        defer { Task { try? await client.shutdown() } }
        // What runs before the server listens (migrations, binding its address) blocks no connection.
        let serving = (try? FileManager.default.attributesOfItem(atPath: report)[.size] as? Int) ?? 0

        // The gateway, streamed and not.
        let key = ["Authorization": "Bearer sk-watch"]
        for stream in [false, true, false, true] {
            let body = #"{"model":"mock-1","stream":\#(stream),"messages":[{"role":"user","content":"hi"}]}"#
            let reply = try await client.request(.POST, "/v1/chat/completions", body: body, headers: key)
            #expect(reply.status == 200, "\(reply.body)")
        }
        // An account, a conversation and a chat turn, stored as it streams.
        try await client.setUpAdmin()
        let conversation = try await client.createConversation()
        #expect(try await client.chat(conversation, "hello").last?.status == "complete")
        // A knowledge base: upload, ingestion (chunks, embeddings, full-text index), search, a grounded answer.
        let baseID = try #require(try await client.createBase(#"{"name":"Manual"}"#)["id"] as? String)
        let upload = try await client.upload(baseID, name: "router.md", Array(KnowledgeAPITests.guide.utf8))
        #expect(upload.status == 201, "\(upload.body)")
        let documentID = try #require((upload.json["document"] as? [String: Any])?["id"] as? String)
        #expect(try await client.waitForDocument(baseID, documentID)["status"] as? String == "ready")
        #expect(try await client.search(baseID, "How long does the warranty last?").status == 200)
        let grounded = try await client.createConversation(#"{"knowledge_base_ids":["\#(baseID)"]}"#)
        #expect(try await client.chat(grounded, "How long does the warranty last?").last?.status == "complete")
        #expect(try await client.request(.GET, "/metrics", headers: ["Authorization": ""]).status == 200)

        server.send(SIGTERM)
        #expect(await server.waitForExit(within: .seconds(20)), "parley serve stops on SIGTERM")
        #expect(FileManager.default.fileExists(atPath: report), "the watcher was loaded")
        let written = FileManager.default.contents(atPath: report) ?? Data()
        let found = String(decoding: written.dropFirst(serving), as: UTF8.self)
        #expect(found.isEmpty, "blocking calls on an event loop:\n\(found.prefix(6_000))")
    }
}
