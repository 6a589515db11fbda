namespace WebConsole.Inference.Starter;

/// <summary>The models of the offline starter pack, built locally from npm package data on first use.</summary>
public enum StarterModelKind
{
    /// <summary><c>.starter-embedding</c>: text_embedding, 100 dimensions (SIF-weighted mean of word vectors).</summary>
    Embedding,

    /// <summary><c>.starter-sparse</c>: sparse_embedding (words and their close neighbours in word-vector space).</summary>
    Sparse,

    /// <summary><c>.starter-rerank</c>: rerank (word-vector similarity between query and document).</summary>
    Rerank,

    /// <summary><c>.demo-chat</c>: the demo chat model (built by <c>DemoChat.DemoChatBuilder</c>).</summary>
    DemoChat,
}
