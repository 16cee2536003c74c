// Placeholder: registers the software vault factory (software:memory | software:PATH).
export {}
