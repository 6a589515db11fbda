using WebConsole.Domain.Endpoints;

namespace WebConsole.Domain.RateLimiting;

/// <summary>What a selector matches.</summary>
public enum ModelSelectorKind
{
    /// <summary>One model, by id.</summary>
    Model,

    /// <summary>A family of models: all models of one task type (e.g. the managed LLMs, <c>chat_completion</c>).</summary>
    Family,
}

/// <summary>Selects the models a rate-limit policy applies to; written as <c>model:&lt;id&gt;</c> or <c>family:&lt;task type&gt;</c>.</summary>
public readonly record struct ModelSelector
{
    private ModelSelector(ModelSelectorKind kind, string value)
    {
        Kind = kind;
        Value = value;
    }

    /// <summary>Model or family.</summary>
    public ModelSelectorKind Kind { get; }

    /// <summary>The model id, or the family's task type wire name.</summary>
    public string Value { get; }

    /// <summary>Selects one model.</summary>
    public static ModelSelector ForModel(string modelId) => new(ModelSelectorKind.Model, Guard.NotBlank(modelId, "model_id", 128));

    /// <summary>Selects every model of a task type.</summary>
    public static ModelSelector ForFamily(TaskType taskType) => new(ModelSelectorKind.Family, taskType.ToWireName());

    /// <summary>Whether the selector matches a model.</summary>
    public bool Matches(string modelId, TaskType taskType) => Kind switch
    {
        ModelSelectorKind.Model => string.Equals(Value, modelId, StringComparison.Ordinal),
        _ => string.Equals(Value, taskType.ToWireName(), StringComparison.Ordinal),
    };

    /// <summary>Parses <c>model:&lt;id&gt;</c> or <c>family:&lt;task type&gt;</c>.</summary>
    public static ModelSelector Parse(string? text)
    {
        if (text is not null)
        {
            if (text.StartsWith("model:", StringComparison.Ordinal))
            {
                return ForModel(text["model:".Length..]);
            }

            if (text.StartsWith("family:", StringComparison.Ordinal))
            {
                return ForFamily(TaskTypes.Parse(text["family:".Length..]));
            }
        }

        throw new DomainValidationException($"Invalid model selector [{text}]; expected model:<id> or family:<task type>");
    }

    /// <inheritdoc />
    public override string ToString() => (Kind == ModelSelectorKind.Model ? "model:" : "family:") + Value;
}
