output "zone_id" {
  value = local.zone_id
}

output "name_servers" {
  description = "Delegate the zone to these (only when it was created here)."
  value       = var.zone_id == "" ? aws_route53_zone.this[0].name_servers : []
}

output "certificate_arn" {
  description = "For the ingress annotation alb.ingress.kubernetes.io/certificate-arn."
  value       = aws_acm_certificate_validation.this.certificate_arn
}
