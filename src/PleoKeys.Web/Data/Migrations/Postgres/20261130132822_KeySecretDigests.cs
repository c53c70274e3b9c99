using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class KeySecretDigests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DigestSecretId",
                table: "ApiKeys",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "SecretDigest",
                table: "ApiKeys",
                type: "bytea",
                maxLength: 32,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DigestSecretId",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "SecretDigest",
                table: "ApiKeys");
        }
    }
}
