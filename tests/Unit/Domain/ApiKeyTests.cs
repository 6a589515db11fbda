using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;

namespace WebConsole.Unit.Domain;

public sealed class ApiKeyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private static ApiKey Key(ApiKeyRole role = ApiKeyRole.InferenceUser, DateTimeOffset? expiresAt = null, string[]? endpoints = null) =>
        ApiKey.Create("k1_x-Y", "ci key", Guid.NewGuid(), Guid.NewGuid(), null, "hash", role, expiresAt, endpoints, Now);

    [Fact]
    public void Admin_grants_manage_and_monitor_user_only_monitor()
    {
        Assert.True(Key(ApiKeyRole.InferenceAdmin).Grants(Privilege.ManageInference));
        Assert.True(Key(ApiKeyRole.InferenceAdmin).Grants(Privilege.MonitorInference));
        Assert.False(Key(ApiKeyRole.InferenceUser).Grants(Privilege.ManageInference));
        Assert.True(Key(ApiKeyRole.InferenceUser).Grants(Privilege.MonitorInference));
    }

    [Fact]
    public void A_key_is_active_until_it_expires()
    {
        var key = Key(expiresAt: Now.AddHours(1));
        Assert.True(key.IsActive(Now));
        Assert.True(key.IsActive(Now.AddMinutes(59)));
        Assert.False(key.IsActive(Now.AddHours(1)));
        Assert.True(Key().IsActive(Now.AddYears(10)));
    }

    [Fact]
    public void An_expiry_in_the_past_is_rejected()
    {
        Assert.Throws<DomainValidationException>(() => Key(expiresAt: Now));
        Assert.Throws<DomainValidationException>(() => Key(expiresAt: Now.AddSeconds(-1)));
    }

    [Fact]
    public void Invalidation_ends_the_key_and_keeps_the_first_time()
    {
        var key = Key();
        key.Invalidate(Now.AddMinutes(1));
        key.Invalidate(Now.AddMinutes(2));
        Assert.False(key.IsActive(Now.AddMinutes(1)));
        Assert.Equal(Now.AddMinutes(1), key.InvalidatedAt);
    }

    [Fact]
    public void Allowed_endpoints_restrict_use_and_empty_allows_all()
    {
        var restricted = Key(endpoints: ["b-ep", "a-ep", "a-ep"]);
        Assert.Equal(["a-ep", "b-ep"], restricted.AllowedEndpoints);
        Assert.True(restricted.MayUse("a-ep"));
        Assert.False(restricted.MayUse("c-ep"));
        Assert.True(Key().MayUse("anything"));
        Assert.Throws<DomainValidationException>(() => Key(endpoints: ["Bad Id"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("colon:id")]
    public void Bad_key_ids_are_rejected(string id)
    {
        Assert.Throws<DomainValidationException>(() => ApiKey.Create(id, "n", Guid.NewGuid(), Guid.NewGuid(), null, "hash", ApiKeyRole.InferenceUser, null, null, Now));
    }

    [Fact]
    public void A_secret_hash_is_required()
    {
        Assert.Throws<DomainValidationException>(() => ApiKey.Create("bootstrap", "n", Guid.NewGuid(), Guid.NewGuid(), null, " ", ApiKeyRole.InferenceUser, null, null, Now));
    }
}
