/// Exports as each app writes them (shapes from their export code and documentation), with branches.
enum ExportFixtures {
    /// ChatGPT's `conversations.json` element: a hidden root and system message, a question edited once (two
    /// branches), an image part, a tool message; the app showed the older branch.
    static let chatGPT = #"""
        {"title": "Rust lifetimes", "create_time": 1700000000.123, "update_time": 1700000500.5,
         "id": "c0ffee", "conversation_id": "c0ffee", "current_node": "a2",
         "mapping": {
          "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
          "sys": {"id": "sys", "parent": "root", "children": ["u1"], "message": {"id": "sys",
            "author": {"role": "system", "name": null, "metadata": {}}, "create_time": null,
            "content": {"content_type": "text", "parts": [""]}, "status": "finished_successfully",
            "metadata": {"is_visually_hidden_from_conversation": true}}},
          "u1": {"id": "u1", "parent": "sys", "children": ["a1"], "message": {"id": "u1", "author": {"role": "user"},
            "create_time": 1700000001.5, "content": {"content_type": "text", "parts": ["What is a lifetime?"]},
            "metadata": {}}},
          "a1": {"id": "a1", "parent": "u1", "children": ["u2", "u2b"], "message": {"id": "a1",
            "author": {"role": "assistant"}, "create_time": 1700000003,
            "content": {"content_type": "text", "parts": ["A lifetime is how long a reference is valid."]},
            "metadata": {"model_slug": "gpt-4o"}}},
          "u2b": {"id": "u2b", "parent": "a1", "children": ["a2b"], "message": {"id": "u2b", "author": {"role": "user"},
            "create_time": 1700000200, "content": {"content_type": "text", "parts": ["Show a short example"]}}},
          "u2": {"id": "u2", "parent": "a1", "children": ["a2"], "message": {"id": "u2", "author": {"role": "user"},
            "create_time": 1700000100, "content": {"content_type": "text", "parts": ["Show an example"]}}},
          "a2": {"id": "a2", "parent": "u2", "children": [], "message": {"id": "a2", "author": {"role": "assistant"},
            "create_time": 1700000110, "content": {"content_type": "text",
            "parts": ["fn longest<'a>(x: &'a str, y: &'a str) -> &'a str"]}, "metadata": {"model_slug": "gpt-4o"}}},
          "a2b": {"id": "a2b", "parent": "u2b", "children": ["tool"], "message": {"id": "a2b",
            "author": {"role": "assistant"}, "create_time": 1700000210, "content": {"content_type": "multimodal_text",
            "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"},
                      "Here: fn f<'a>(x: &'a str) -> &'a str"]}, "metadata": {"model_slug": "gpt-4o-mini"}}},
          "tool": {"id": "tool", "parent": "a2b", "children": [], "message": {"id": "tool",
            "author": {"role": "tool", "name": "python"}, "create_time": 1700000220,
            "content": {"content_type": "execution_output", "text": "ok"}}}
         }}
        """#

    /// Open WebUI's "Export chats" element: an answer regenerated (two answers to one question), then a question
    /// after the second; the app showed that last question.
    static let openWebUI = #"""
        {"id": "c1", "user_id": "u-1", "title": "Paris trip", "updated_at": 1710000100, "created_at": 1710000000,
         "share_id": null, "archived": false, "pinned": false, "meta": {}, "folder_id": null,
         "chat": {"id": "", "title": "Paris trip", "models": ["llama3:8b"], "params": {}, "timestamp": 1710000000000,
          "history": {"currentId": "m3", "messages": {
           "m1": {"id": "m1", "parentId": null, "childrenIds": ["m2", "m2b"], "role": "user",
                  "content": "Plan a day in Paris", "timestamp": 1710000000, "models": ["llama3:8b"]},
           "m2": {"id": "m2", "parentId": "m1", "childrenIds": [], "role": "assistant",
                  "content": "Morning: the Louvre.", "model": "llama3:8b", "timestamp": 1710000005, "done": true},
           "m2b": {"id": "m2b", "parentId": "m1", "childrenIds": ["m3"], "role": "assistant",
                   "content": "Start at Montmartre.", "model": "llama3:8b", "timestamp": 1710000050, "done": true},
           "m3": {"id": "m3", "parentId": "m2b", "childrenIds": [], "role": "user", "content": "And the evening?",
                  "timestamp": 1710000100}}},
          "messages": []}}
        """#

    /// LibreChat's export with `recursive: true`: messages nested under `children`; a regenerated answer.
    static let libreChatNested = #"""
        {"conversationId": "lc-1", "title": "SQL help", "endpoint": "openAI", "recursive": true,
         "messages": [{"messageId": "l1", "parentMessageId": "00000000-0000-0000-0000-000000000000",
           "text": "How do I index a column?", "sender": "User", "isCreatedByUser": true,
           "createdAt": "2024-03-01T10:00:00.000Z", "children": [
             {"messageId": "l2", "parentMessageId": "l1", "text": "Use CREATE INDEX.", "sender": "GPT-4",
              "isCreatedByUser": false, "model": "gpt-4", "createdAt": "2024-03-01T10:00:05.000Z", "children": []},
             {"messageId": "l2b", "parentMessageId": "l1", "text": "", "content": [{"type": "text",
              "text": "CREATE INDEX idx ON t (c);"}], "sender": "GPT-4", "isCreatedByUser": false, "model": "gpt-4",
              "createdAt": "2024-03-01T10:01:00.000Z", "children": []}]}]}
        """#

    /// LibreChat's export with `recursive: false`: a flat list linked by `parentMessageId`.
    static let libreChatFlat = #"""
        {"conversationId": "lc-2", "title": "Haiku", "endpoint": "anthropic", "recursive": false,
         "messages": [
          {"messageId": "f1", "parentMessageId": "00000000-0000-0000-0000-000000000000", "text": "A haiku on rain",
           "isCreatedByUser": true, "createdAt": "2024-03-02T09:00:00Z"},
          {"messageId": "f2", "parentMessageId": "f1", "text": "Soft rain on the roof", "isCreatedByUser": false,
           "model": "claude-3-haiku", "createdAt": "2024-03-02T09:00:02Z"}]}
        """#
}
