using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Usage;

namespace WebConsole.Unit.Domain;

public sealed class CatalogAndBillingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private static CatalogModel Model(DateOnly? eol) => CatalogModel.Create(
        "anthropic-claude-4.5-opus", "Anthropic", "Claude Opus 4.5", TaskType.ChatCompletion,
        new CatalogLink("Card", "https://example.com/card.pdf"), [new CatalogLink("AWS Terms", "https://aws.amazon.com/service-terms/")],
        ["Text", "Image"], ["Text"], eol, "0", false, ["US"], ReleaseStatus.GenerallyAvailable, "9.3");

    [Fact]
    public void A_model_is_end_of_life_from_its_eol_date_on()
    {
        var model = Model(new DateOnly(2026, 11, 24));
        Assert.False(model.IsEndOfLife(new DateOnly(2026, 11, 23)));
        Assert.True(model.IsEndOfLife(new DateOnly(2026, 11, 24)));
        Assert.True(model.IsEndOfLife(new DateOnly(2027, 1, 1)));
        Assert.False(Model(null).IsEndOfLife(new DateOnly(2099, 1, 1)));
    }

    [Fact]
    public void The_eol_warning_starts_90_days_before()
    {
        var model = Model(new DateOnly(2027, 3, 1));
        Assert.False(model.IsEolSoon(new DateOnly(2027, 3, 1).AddDays(-91)));
        Assert.True(model.IsEolSoon(new DateOnly(2027, 3, 1).AddDays(-90)));
        Assert.True(model.IsEolSoon(new DateOnly(2027, 2, 28)));
        Assert.False(model.IsEolSoon(new DateOnly(2027, 3, 1)));
        Assert.False(Model(null).IsEolSoon(new DateOnly(2027, 3, 1)));
    }

    [Theory]
    [InlineData("Generally Available", ReleaseStatus.GenerallyAvailable)]
    [InlineData("Preview", ReleaseStatus.Preview)]
    [InlineData("Legacy (EOL Soon)", ReleaseStatus.LegacyEolSoon)]
    public void Release_statuses_parse_from_catalog_text(string text, ReleaseStatus status)
    {
        Assert.Equal(status, CatalogModel.ParseReleaseStatus(text));
        Assert.Equal(text, CatalogModel.ToDisplayName(status));
    }

    [Fact]
    public void A_catalog_model_needs_valid_links()
    {
        Assert.Throws<DomainValidationException>(() => CatalogModel.Create(
            "x", "a", "n", TaskType.Rerank, new CatalogLink("Card", "not a url"), [], ["Text"], ["Text"], null, "0", false, ["US"], ReleaseStatus.Preview, "9.3"));
    }

    [Fact]
    public void Chat_bills_input_and_output_tokens()
    {
        var price = Price.Create("openai-gpt-4.1", 2.00m, 8.00m, "usd", Now);
        Assert.Equal("USD", price.Currency);
        Assert.Equal(0.0028m, price.CostOf(TaskType.ChatCompletion, 1000, 100));
        Assert.Equal(0.0028m, price.CostOf(TaskType.Completion, 1000, 100));
    }

    [Fact]
    public void Embeddings_and_rerank_bill_input_tokens_only()
    {
        var price = Price.Create("jina-embeddings-v3", 0.018m, 5m, "USD", Now);
        Assert.Equal(0.000018m, price.CostOf(TaskType.TextEmbedding, 1000, 500));
        Assert.Equal(0.000018m, price.CostOf(TaskType.SparseEmbedding, 1000, 500));
        Assert.Equal(0.000018m, price.CostOf(TaskType.Rerank, 1000, 500));
        Assert.Equal(0.000000018m, price.CostOf(TaskType.TextEmbedding, 1, 0));
    }

    [Fact]
    public void Prices_and_token_counts_are_never_negative()
    {
        Assert.Throws<DomainValidationException>(() => Price.Create("m", -0.01m, 1m, "USD", Now));
        Assert.Throws<DomainValidationException>(() => Price.Create("m", 1m, -1m, "USD", Now));
        Assert.Throws<DomainValidationException>(() => Price.Create("m", 1m, 1m, "dollars", Now));
        Assert.Throws<DomainValidationException>(() => Price.Create("m", 1m, 1m, "USD", Now).CostOf(TaskType.ChatCompletion, -1, 0));
    }

    [Fact]
    public void Rate_limits_are_positive_or_unlimited()
    {
        Assert.True(RateLimit.Unlimited.IsUnlimited);
        var limit = RateLimit.Create(2000, null, null);
        Assert.Equal(2000, limit.RequestsPerMinute);
        Assert.Null(limit.IngestTokensPerMinute);
        Assert.Throws<DomainValidationException>(() => RateLimit.Create(0, null, null));
        Assert.Throws<DomainValidationException>(() => RateLimit.Create(null, -1, null));
    }

    [Fact]
    public void Model_selectors_match_a_model_or_a_family()
    {
        var family = ModelSelector.ForFamily(TaskType.ChatCompletion);
        Assert.True(family.Matches("openai-gpt-4.1", TaskType.ChatCompletion));
        Assert.False(family.Matches("jina-embeddings-v3", TaskType.TextEmbedding));
        var model = ModelSelector.ForModel("elser_model_2");
        Assert.True(model.Matches("elser_model_2", TaskType.SparseEmbedding));
        Assert.False(model.Matches("elser_model_3", TaskType.SparseEmbedding));
        Assert.Equal(family, ModelSelector.Parse(family.ToString()));
        Assert.Equal(model, ModelSelector.Parse("model:elser_model_2"));
        Assert.Throws<DomainValidationException>(() => ModelSelector.Parse("elser_model_2"));
    }

    [Fact]
    public void Policy_scopes_need_an_id_except_global()
    {
        var selector = ModelSelector.ForModel("m");
        Assert.Throws<DomainValidationException>(() => RateLimitPolicy.Create(Guid.NewGuid(), RateLimitScope.Team, null, selector, RateLimit.Unlimited));
        Assert.Throws<DomainValidationException>(() => RateLimitPolicy.Create(Guid.NewGuid(), RateLimitScope.Global, "x", selector, RateLimit.Unlimited));
        var policy = RateLimitPolicy.Create(Guid.NewGuid(), RateLimitScope.ApiKey, "bootstrap", selector, RateLimit.Create(10, 100, 50));
        Assert.Equal(RateLimit.Create(10, 100, 50), policy.Limit);
    }

    [Fact]
    public void Usage_records_bill_the_inference_dimension_and_round_cost_to_nine_places()
    {
        var record = UsageRecord.Create(Guid.NewGuid(), "req-1", Guid.NewGuid(), Guid.NewGuid(), "key", null, "ep", "m", TaskType.TextEmbedding,
            Surface.OpenAI, 3, 0, 0.0000000123456m, "usd", UsageOutcome.Succeeded, Now.ToOffset(TimeSpan.FromHours(2)));
        Assert.Equal("Inference", record.BillingDimension);
        Assert.Equal(0.000000012m, record.Cost);
        Assert.Equal("USD", record.Currency);
        Assert.Equal(TimeSpan.Zero, record.OccurredAt.Offset);
        Assert.Throws<DomainValidationException>(() => UsageRecord.Create(Guid.NewGuid(), "req-2", Guid.NewGuid(), Guid.NewGuid(), null, null, "ep", "m",
            TaskType.TextEmbedding, Surface.Inference, -1, 0, 0m, "USD", UsageOutcome.Succeeded, Now));
        Assert.Throws<DomainValidationException>(() => UsageRecord.Create(Guid.NewGuid(), "req-3", Guid.NewGuid(), Guid.NewGuid(), null, null, "ep", "m",
            TaskType.TextEmbedding, Surface.Inference, 1, 0, -0.1m, "USD", UsageOutcome.Succeeded, Now));
    }
}
