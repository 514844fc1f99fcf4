output "file_system_id" {
  description = "For an EFS CSI StorageClass (parameters.fileSystemId)."
  value       = aws_efs_file_system.this.id
}

output "file_system_arn" {
  value = aws_efs_file_system.this.arn
}
