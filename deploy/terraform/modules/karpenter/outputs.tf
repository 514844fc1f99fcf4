output "node_role_name" {
  description = "workerKarpenter.nodeRole of the chart (EC2NodeClass spec.role)."
  value       = aws_iam_role.node.name
}

output "node_role_arn" {
  value = aws_iam_role.node.arn
}

output "interruption_queue_name" {
  description = "Karpenter's settings.interruptionQueue."
  value       = aws_sqs_queue.interruption.name
}

output "controller_policy_json" {
  description = "Inline policy of the controller's IRSA role (the root module makes the role)."
  value       = data.aws_iam_policy_document.controller.json
}
