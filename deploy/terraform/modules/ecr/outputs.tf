output "repository_urls" {
  description = "Repository URL by short name (gateway, operator, functions, ...)."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "repository_arns" {
  value = { for k, r in aws_ecr_repository.this : k => r.arn }
}
