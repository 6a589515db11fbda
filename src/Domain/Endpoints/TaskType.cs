namespace WebConsole.Domain.Endpoints;

/// <summary>The kinds of inference an endpoint performs (Elasticsearch's task types).</summary>
public enum TaskType
{
    /// <summary><c>text_embedding</c>: dense vectors.</summary>
    TextEmbedding,

    /// <summary><c>sparse_embedding</c>: token weights.</summary>
    SparseEmbedding,

    /// <summary><c>rerank</c>: relevance scores of documents for a query.</summary>
    Rerank,

    /// <summary><c>completion</c>: text completion of a single input.</summary>
    Completion,

    /// <summary><c>chat_completion</c>: OpenAI-style chat.</summary>
    ChatCompletion,
}

/// <summary>Wire names and rules of <see cref="TaskType"/>.</summary>
public static class TaskTypes
{
    /// <summary>All task types, in wire order.</summary>
    public static IReadOnlyList<TaskType> All { get; } =
        [TaskType.TextEmbedding, TaskType.SparseEmbedding, TaskType.Rerank, TaskType.Completion, TaskType.ChatCompletion];

    /// <summary>The Elasticsearch wire name, e.g. <c>text_embedding</c>.</summary>
    public static string ToWireName(this TaskType taskType) => taskType switch
    {
        TaskType.TextEmbedding => "text_embedding",
        TaskType.SparseEmbedding => "sparse_embedding",
        TaskType.Rerank => "rerank",
        TaskType.Completion => "completion",
        TaskType.ChatCompletion => "chat_completion",
        _ => throw new ArgumentOutOfRangeException(nameof(taskType), taskType, null),
    };

    /// <summary>
    /// Parses a wire name as Elasticsearch does (trimmed, case-insensitive); anything else is
    /// <c>Unknown task_type [value]</c>.
    /// </summary>
    public static TaskType Parse(string? value) =>
        TryParse(value, out var taskType) ? taskType : throw new DomainValidationException($"Unknown task_type [{value}]");

    /// <summary>Parses a wire name; false when it names no task type.</summary>
    public static bool TryParse(string? value, out TaskType taskType)
    {
        var name = value?.Trim();
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToWireName(), name, StringComparison.OrdinalIgnoreCase))
            {
                taskType = candidate;
                return true;
            }
        }

        taskType = default;
        return false;
    }

    /// <summary>Whether output tokens are billed too (generative tasks); embeddings and rerank bill input only.</summary>
    public static bool BillsOutputTokens(this TaskType taskType) =>
        taskType is TaskType.Completion or TaskType.ChatCompletion;

    /// <summary>Whether inputs of this task type are chunked (and so an endpoint carries chunking settings).</summary>
    public static bool SupportsChunking(this TaskType taskType) =>
        taskType is TaskType.TextEmbedding or TaskType.SparseEmbedding;
}
