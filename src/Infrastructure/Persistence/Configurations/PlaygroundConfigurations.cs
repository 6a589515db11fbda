using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using WebConsole.Domain.Playground;
using WebConsole.Domain.Tenancy;

namespace WebConsole.Infrastructure.Persistence.Configurations;

internal sealed class ConversationConfiguration : IEntityTypeConfiguration<Conversation>
{
    public void Configure(EntityTypeBuilder<Conversation> builder)
    {
        builder.ToTable("Conversations");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.InferenceId).HasMaxLength(Conversation.InferenceIdMaxLength);
        builder.Property(c => c.Title).HasMaxLength(Conversation.TitleMaxLength);

        // The endpoint's reference scan looks conversations up by endpoint; the playground lists a user's newest first.
        builder.HasIndex(c => new { c.OrganizationId, c.InferenceId });
        builder.HasIndex(c => new { c.UserId, c.UpdatedAt });
        builder.HasOne<Organization>().WithMany().HasForeignKey(c => c.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<User>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
