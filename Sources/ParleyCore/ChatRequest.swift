import Foundation

/// One message as sent to a model.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: Role
    public var content: String
    /// Attachments still to be read (a message from history): the chat service puts a file's text in ``content``
    /// and an image in ``images`` before the message goes upstream. They count in the context budget meanwhile.
    public var attachments: [AttachmentReference] = []
    /// Images sent with the text, as content parts.
    public var images: [ImagePart] = []
    public init(role: Role, content: String, attachments: [AttachmentReference] = [], images: [ImagePart] = []) {
        self.role = role
        self.content = content
        self.attachments = attachments
        self.images = images
    }
}

/// An image sent to a vision model.
public struct ImagePart: Sendable, Equatable, Codable {
    public var mediaType: String
    public var data: Data
    public init(mediaType: String, data: Data) {
        self.mediaType = mediaType
        self.data = data
    }

    /// A `data:` URL of the image, as OpenAI's `image_url` part takes it.
    public var dataURL: String { "data:\(mediaType);base64,\(data.base64EncodedString())" }
}

/// A chat completion request in provider-neutral form.
public struct ChatRequest: Sendable, Equatable {
    /// The model name as the upstream knows it.
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    public var stop: [String]?
    public var reasoningEffort: String?
    /// Whose answers a cached one may be served to (the user's id): never sent upstream.
    public var cacheScope: String?
    public init(model: String, messages: [ChatMessage], maxTokens: Int? = nil, temperature: Double? = nil) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}
