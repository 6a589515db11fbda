using WebConsole.Domain;
using WebConsole.Domain.Tenancy;

namespace WebConsole.Unit.Domain;

public sealed class TenancyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("acme")]
    [InlineData("acme-corp-2")]
    public void Valid_slugs_are_accepted(string slug) => Assert.Equal(slug, Organization.Create(Guid.NewGuid(), "Acme", slug, Now).Slug);

    [Theory]
    [InlineData("Acme")]
    [InlineData("-acme")]
    [InlineData("acme corp")]
    [InlineData("")]
    public void Invalid_slugs_are_rejected(string slug) =>
        Assert.Throws<DomainValidationException>(() => Organization.Create(Guid.NewGuid(), "Acme", slug, Now));

    [Fact]
    public void Emails_are_normalized_and_checked()
    {
        Assert.Equal("ada@example.com", User.Create(Guid.NewGuid(), "  Ada@Example.COM ", "Ada", null, false, Now).Email);
        Assert.Throws<DomainValidationException>(() => User.Create(Guid.NewGuid(), "ada.example.com", "Ada", null, false, Now));
        Assert.Throws<DomainValidationException>(() => User.Create(Guid.NewGuid(), "a@b@c", "Ada", null, false, Now));
    }

    [Theory]
    [InlineData("red\u001b[31m")]
    [InlineData("nul\u0000")]
    [InlineData("bell\u0007")]
    [InlineData("spoof\u202Egnp.exe")]
    [InlineData("iso\u2066late")]
    public void Names_with_control_characters_or_bidirectional_overrides_are_refused(string name)
    {
        var error = Assert.Throws<DomainValidationException>(() => Team.Create(Guid.NewGuid(), Guid.NewGuid(), name, Now));
        Assert.Contains("control characters", error.Message, StringComparison.Ordinal);
        Assert.Throws<DomainValidationException>(() => Organization.Create(Guid.NewGuid(), name, "acme", Now));
        Assert.Throws<DomainValidationException>(() => User.Create(Guid.NewGuid(), "ada@example.com", name, null, false, Now));
    }

    [Fact]
    public void Names_in_any_script_with_emoji_and_symbols_are_kept()
    {
        Assert.Equal("Équipe 東京 🚀 <b>&", Team.Create(Guid.NewGuid(), Guid.NewGuid(), "  Équipe 東京 🚀 <b>&  ", Now).Name);
    }

    [Fact]
    public void Entities_refuse_empty_ids_and_names()
    {
        Assert.Throws<DomainValidationException>(() => Organization.Create(Guid.Empty, "Acme", "acme", Now));
        Assert.Throws<DomainValidationException>(() => Team.Create(Guid.NewGuid(), Guid.NewGuid(), " ", Now));
        Assert.Throws<DomainValidationException>(() => TeamMembership.Create(Guid.NewGuid(), Guid.Empty, TeamRole.Member, Now));
    }

    [Fact]
    public void Roles_can_change()
    {
        var membership = OrganizationMembership.Create(Guid.NewGuid(), Guid.NewGuid(), OrganizationRole.Member, Now);
        Assert.False(membership.IsAdmin);
        membership.ChangeRole(OrganizationRole.OrganizationAdmin);
        Assert.True(membership.IsAdmin);
        var teamMembership = TeamMembership.Create(Guid.NewGuid(), Guid.NewGuid(), TeamRole.Member, Now);
        teamMembership.ChangeRole(TeamRole.TeamAdmin);
        Assert.Equal(TeamRole.TeamAdmin, teamMembership.Role);
    }
}
