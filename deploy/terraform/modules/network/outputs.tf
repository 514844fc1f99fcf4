output "vpc_id" {
  value = aws_vpc.this.id
}

output "public_subnet_ids" {
  value = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

output "worker_subnet_ids" {
  description = "Where Karpenter launches workers (the subnets tagged karpenter.sh/discovery)."
  value       = var.workers_in_private_subnets ? aws_subnet.private[*].id : aws_subnet.public[*].id
}
