using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ActiveKeyCountIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_CompanyId_DeletedAtUtc_ExpiresAtUtc_SecretStopsAtUtc",
                table: "ApiKeys",
                columns: new[] { "CompanyId", "DeletedAtUtc", "ExpiresAtUtc", "SecretStopsAtUtc" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_CompanyId_DeletedAtUtc_ExpiresAtUtc_SecretStopsAtUtc",
                table: "ApiKeys");
        }
    }
}
