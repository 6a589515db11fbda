namespace WebConsole.TestModels;

/// <summary>The generated models tests can ask <see cref="TestModelStore"/> for.</summary>
public enum TestModelKind
{
    /// <summary>A sentence-transformers BERT with mean pooling and Normalize (all-MiniLM-L6-v2's layout).</summary>
    BertMeanPooling,

    /// <summary>A sentence-transformers BERT with CLS pooling and Normalize (bge's layout).</summary>
    BertClsPooling,

    /// <summary>An E5-style model: mean pooling, Normalize, and the "query: " / "passage: " prompts.</summary>
    E5,

    /// <summary>A SPLADE model: BertForMaskedLM, logits [batch, sequence, 30522].</summary>
    Splade,

    /// <summary>A relevance cross-encoder: BertForSequenceClassification with one label, logits [batch, 1].</summary>
    CrossEncoder,
}
