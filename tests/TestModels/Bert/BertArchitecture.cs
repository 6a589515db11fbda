namespace WebConsole.TestModels.Bert;

/// <summary>Which head sits on the encoder, as in transformers' model classes.</summary>
public enum BertHead
{
    /// <summary>BertModel: the output is <c>last_hidden_state</c> [batch, sequence, hidden] (feature extraction).</summary>
    None,

    /// <summary>BertForMaskedLM: <c>logits</c> [batch, sequence, vocab] (SPLADE).</summary>
    MaskedLanguageModel,

    /// <summary>BertForSequenceClassification: pooler and classifier, <c>logits</c> [batch, labels] (cross-encoders).</summary>
    SequenceClassification,
}

/// <summary>The shape of a generated BERT (config.json's fields); the defaults keep models tiny and fast.</summary>
public sealed record BertArchitecture
{
    /// <summary>bert-base-uncased's vocabulary size.</summary>
    public int VocabularySize { get; init; } = 30_522;

    public int HiddenSize { get; init; } = 32;

    public int Layers { get; init; } = 2;

    public int AttentionHeads { get; init; } = 2;

    public int IntermediateSize { get; init; } = 64;

    public int MaxPositionEmbeddings { get; init; } = 512;

    public int TypeVocabularySize { get; init; } = 2;

    public float LayerNormEpsilon { get; init; } = 1e-12f;

    public BertHead Head { get; init; } = BertHead.None;

    /// <summary>Outputs of the classification head (1 for a relevance cross-encoder).</summary>
    public int Labels { get; init; } = 1;

    public int HeadSize => HiddenSize / AttentionHeads;
}
